use super::*;

#[test]
fn zone_hint_of_docker_t() {
    let s = b"2017-05-10T06:50:00.434167704Z 2017/05/10 06:50:00 [error] 23#23: x\n";
    assert_eq!(sniff(s), Some(Envelope::Timestamped));
    assert_eq!(zone_hint(Envelope::Timestamped, s), Some(0));
}
