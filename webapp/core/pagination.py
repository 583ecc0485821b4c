"""The API's pagination (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS): limit and offset, as DRF's,
except that a value that is not a whole number in range is a 400 naming the parameter. DRF's own
passes any limit to the database, where one beyond bigint is an error (a 500)."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000


class CheckedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request):
        return self._param(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return self._param(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    @staticmethod
    def _param(request, name: str, default: int, low: int, high: int) -> int:
        text = request.query_params.get(name, "")
        if text == "":
            return default
        # Digits only (no sign, space or decimals), and few enough of them to be in range at all.
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(high)) and low <= int(text) <= high):
            raise ValidationError({name: [f"{name} must be a whole number from {low} to {high:,}."]})
        return int(text)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters
