<?php
function storefront_header() {
    echo $undefined_var;
    $x = "abc" + 0;
}
