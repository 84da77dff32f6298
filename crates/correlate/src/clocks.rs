//! Every clock checked: offset-less inputs (error log, php-fpm log,
//! slowlog, kernel log) compared with the inputs that carry their offset,
//! and shifted by whole or half hours when the evidence is unambiguous.
