<?php
function apply_filters_cb($cb, ...$args) { return $cb(...$args); }
