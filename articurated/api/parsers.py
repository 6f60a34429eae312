from django.conf import settings
from rest_framework import exceptions, parsers


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "REQUEST_TOO_LARGE"
    default_detail = "The request body is too large."


class LimitedJSONParser(parsers.JSONParser):
    """JSON parser that refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE before reading them.

    DRF 3.15+ reads request.body for JSON, so Django's own size check (RequestDataTooBig)
    usually fires first; the API exception handler turns that into the same 413. This check
    covers a parser handed a stream directly.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except exceptions.ParseError as error:
            # Python's own message for a number of over 4,300 digits names
            # sys.set_int_max_str_digits(): say what is wrong without the interpreter's internals.
            if "int_max_str_digits" in str(error.detail) or "digits" in str(error.detail):
                raise exceptions.ParseError("JSON parse error - a number is too long.") from None
            raise
        except RecursionError:
            # "[[[[…" a few hundred KB deep exhausts the decoder's recursion limit: the client's
            # mistake, not a 500.
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if not isinstance(data, dict):
            raise exceptions.ParseError("The JSON body must be an object.")
        return data
