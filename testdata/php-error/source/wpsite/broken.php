<?php
function storefront_footer( {
