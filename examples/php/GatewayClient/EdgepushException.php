<?php
namespace GatewayClient;

/**
 * What the edgepush drop-in for GatewayClient throws: edgepush refused a call (HTTP status and
 * the contract's error code, e.g. 404 not_found), could not be reached (status 0, code
 * `unreachable`), is not configured (`misconfigured`), or a method has no meaning on edgepush
 * (`unsupported`). getCode() is the HTTP status too, 0 when there was no answer.
 */
class EdgepushException extends \Exception
{
    /** @var int */
    private $status;

    /** @var string */
    private $errorCode;

    public function __construct(string $message, int $status = 0, string $errorCode = 'error', ?\Throwable $previous = null)
    {
        parent::__construct($message, $status, $previous);
        $this->status = $status;
        $this->errorCode = $errorCode;
    }

    /** The HTTP status edgepush answered, 0 when it did not answer. */
    public function getStatus(): int
    {
        return $this->status;
    }

    /** The contract's error code: `unauthorized`, `invalid_name`, `not_found`, `too_large` … */
    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** A GatewayClient method that edgepush cannot honour, and why. */
    public static function unsupported(string $method, string $why): self
    {
        return new self("Gateway::$method is not supported by edgepush: $why", 0, 'unsupported');
    }

    /** A non-2xx answer to `$call` ("POST /push"), from its `{"error":{"code","message"}}` body. */
    public static function fromAnswer(string $call, int $status, $answer, string $body): self
    {
        $code = $answer['error']['code'] ?? 'http_error';
        $message = $answer['error']['message'] ?? substr($body, 0, 200);
        return new self("edgepush $call answered $status $code: $message", $status, (string) $code);
    }
}
