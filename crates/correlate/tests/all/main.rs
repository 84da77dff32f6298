//! Every integration test of `baton-correlate`, in one test binary.

mod robust;
mod rules;
