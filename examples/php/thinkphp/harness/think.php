<?php
// Just enough of ThinkPHP 5.1 for the seed's controller to run under php-cli: the `request()`
// helper (param() reads what run.php was given) and a base Controller that calls initialize().
// In a real ThinkPHP app these come from the framework; nothing here is needed there.

namespace think {
    class Request
    {
        /** @var array */
        public static $params = [];

        /** ThinkPHP's Request::param($name): the request's GET/POST value, or `$default`. */
        public function param($name = '', $default = null)
        {
            return $name === '' ? self::$params : (self::$params[$name] ?? $default);
        }
    }

    class Controller
    {
        public function __construct()
        {
            $this->initialize();
        }

        protected function initialize()
        {
        }
    }
}

namespace {
    /** ThinkPHP's request() helper. */
    function request()
    {
        return new think\Request();
    }
}
