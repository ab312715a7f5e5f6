<?php
/**
 * WooCommerce's FeaturesUtil, recording compatibility declarations.
 */

namespace Automattic\WooCommerce\Utilities;

class FeaturesUtil
{
    /** @var array */
    public static $declared = array();

    public static function declare_compatibility($feature, $plugin_file, $positive_compatibility = true)
    {
        self::$declared[] = array($feature, $plugin_file, $positive_compatibility);
        return true;
    }
}
