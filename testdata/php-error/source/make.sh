#!/bin/sh
# How testdata/php-error/debug.log was made (PHP 8.2 CLI, MariaDB 10.11 on /tmp/mdb/mysql.sock).
cd /tmp/wpsite
L=/tmp/phplog/debug.log; rm -f $L
P="php -d error_log=$L -d log_errors=1 -d display_errors=0 -d error_reporting=-1 -d memory_limit=32M"
$P -d date.timezone=UTC run.php warn
$P -d date.timezone=UTC run.php fatal
$P -d date.timezone=Europe/Berlin run.php memory
$P -d date.timezone=UTC run.php db
$P -d date.timezone=UTC run.php dbfatal
$P -d date.timezone=UTC run.php exception
$P -d date.timezone=UTC run.php timeout
$P -d date.timezone=UTC broken.php
$P -d date.timezone=America/New_York run.php warn
