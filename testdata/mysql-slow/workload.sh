#!/bin/sh
# The queries behind testdata/mysql-slow/mariadb-10.11.log.
M="mariadb -S /tmp/mdb/mysql.sock"
$M -e "SELECT SLEEP(2)"
# WordPress's autoload query, a full scan of 100 000 rows of about 1 KiB.
$M wp -e "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'" >/dev/null
$M wp -e "SELECT option_name,
       option_value
  FROM wp_options
 WHERE autoload = 'yes'
   AND option_value LIKE '%ffff%'
 ORDER BY SHA2(option_value, 512)" >/dev/null
$M shop -e "SELECT customer, SUM(total) FROM orders WHERE status IN ('paid', 'refunded') GROUP BY customer ORDER BY SLEEP(0.002)" >/dev/null
# LOCK TABLES held 3 s while a query waits for it (lock time counts apart).
$M shop -e "LOCK TABLES orders WRITE; SELECT SLEEP(3); UNLOCK TABLES;" >/dev/null &
sleep 0.5
$M shop -e "SELECT SLEEP(0.6), COUNT(*) FROM orders WHERE status = 'paid'" >/dev/null
wait
# A row lock held 2 s by one transaction while an UPDATE waits.
$M shop -e "START TRANSACTION; SELECT * FROM orders WHERE id = 7 FOR UPDATE; SELECT SLEEP(2); COMMIT;" >/dev/null &
sleep 0.5
$M shop -e "UPDATE orders SET total = 12.50 WHERE id = 7"
wait
$M wp -e "SELECT SLEEP(1), 'it''s \"quoted\"', 0x1F, -3.5e2" >/dev/null
for i in 1 2 3; do
  $M wp -e "SELECT option_value FROM wp_options WHERE autoload = 'yes' AND option_name LIKE 'opt_$i%'" >/dev/null
done
# After a restart (a second preamble): full scans of wp_options's 100 000 rows.
$M wp -e "SELECT option_name
  FROM wp_options
 WHERE autoload = 'yes'
 ORDER BY SHA2(option_value, 512)
 LIMIT 10" >/dev/null
$M wp -e "SELECT COUNT(*) FROM wp_options WHERE option_value LIKE '%00000%' AND autoload = 'no'" >/dev/null
$M wp -e "SELECT COUNT(DISTINCT SHA2(CONCAT(option_value, option_name), 512)) FROM wp_options WHERE autoload <> 'maybe'"
$M wp -e "SELECT option_name,
       SHA2(CONCAT(option_value, option_name), 512) AS h
  FROM wp_options
 WHERE autoload = 'yes'
 ORDER BY h
 LIMIT 10" >/dev/null
