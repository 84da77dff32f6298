//! The php-fpm slowlog (work in progress).
