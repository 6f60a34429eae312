from rest_framework import pagination, serializers


class PageNumberPagination(pagination.PageNumberPagination):
    """?page=N&page_size=M (default 20, at most 100). A page_size that is not a positive
    integer is a 400, not silently replaced by the default."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise serializers.ValidationError({"page_size": ["A positive integer is required."]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = "Results per page: 20 by default, 100 at most."
        return parameters
