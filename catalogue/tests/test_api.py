"""API.md "Catalogue": categories, products and SKUs with roles, filters, errors and
optimistic locking (ETag / If-Match)."""

import pytest

from articurated.tests.assertions import assert_error
from audit.models import AuditRecord
from audit.signals import audit_recorded
from catalogue.models import Category, Product, Sku
from catalogue.tests.conftest import category_make, product_make
from conftest import (
    api_client_for,
    requires_postgres,
    statement_timeout_seen_on,
    statement_timeout_show,
)

CATEGORY_KEYS = {
    "id", "name", "description", "parent_id", "path", "depth", "version", "created_at",
    "updated_at", "deleted_at",
}  # fmt: skip
PRODUCT_KEYS = {
    "id", "name", "description", "category", "attributes", "active", "skus", "version",
    "created_at", "updated_at", "deleted_at",
}  # fmt: skip
SKU_KEYS = {
    "id", "product_id", "sku", "name", "attributes", "price", "currency", "track_inventory",
    "low_stock_threshold", "active", "stock", "version", "created_at", "updated_at",
    "deleted_at",
}  # fmt: skip
ROLES = ["Warehouse", "Support", "Manager", "Integrator"]
pytestmark = pytest.mark.empty_catalogue


def snapshot() -> dict:
    return {
        "categories": sorted(Category.objects.values_list("id", "name", "version", "deleted_at")),
        "products": sorted(Product.objects.values_list("id", "name", "version", "deleted_at")),
        "skus": sorted(Sku.objects.values_list("id", "code", "version", "deleted_at")),
        "audit": AuditRecord.objects.count(),
        "history": Product.history.count() + Sku.history.count() + Category.history.count(),
    }


def _names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


# --- categories ----------------------------------------------------------------------------


def test_manager_creates_a_subcategory_and_reads_its_path_and_etag(api, shop):
    # when
    response = api["Manager"].post(
        "/api/v1/categories", {"name": "Jugs", "parent_id": str(shop["ceramics"].pk)}
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == CATEGORY_KEYS
    assert (body["path"], body["depth"], body["version"]) == ("Ceramics / Jugs", 1, 1)
    assert response["ETag"] == '"1"'
    record = AuditRecord.objects.get(entity_id=body["id"])
    assert (record.entity_type, record.transition, record.new_state) == (
        "CATEGORY",
        "create",
        "LIVE",
    )


@pytest.mark.parametrize("role", ["Warehouse", "Support", "Integrator"])
def test_only_managers_write_categories(api, shop, role):
    # given
    before = snapshot()

    # when
    response = api[role].post("/api/v1/categories", {"name": "Jugs"})

    # then
    assert_error(response, 403, "PERMISSION_DENIED")
    assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_categories_with_filters(api, shop, role):
    # when
    children = api[role].get("/api/v1/categories", {"parent_id": str(shop["ceramics"].pk)})
    found = api[role].get("/api/v1/categories", {"search": "vas"})

    # then
    assert [(c["name"], c["path"]) for c in children.json()["results"]] == [
        ("Vases", "Ceramics / Vases")
    ]
    assert _names(found) == ["Vases"]


def test_anonymous_gets_401_on_the_catalogue(shop):
    anonymous = api_client_for(None)
    for path in ["/api/v1/categories", "/api/v1/products", "/api/v1/skus",
                 "/api/v1/stock-movements"]:  # fmt: skip
        assert_error(anonymous.get(path), 401, "NOT_AUTHENTICATED")


def test_renaming_needs_if_match_and_refuses_a_stale_version(api, shop):
    # given
    url = f"/api/v1/categories/{shop['vases'].pk}"
    before = snapshot()

    # when
    missing = api["Manager"].patch(url, {"name": "Urns"})
    stale = api["Manager"].patch(url, {"name": "Urns"}, HTTP_IF_MATCH='"0"')

    # then
    assert_error(missing, 428, "PRECONDITION_REQUIRED")
    error = assert_error(stale, 412, "PRECONDITION_FAILED")
    assert error["details"] == {"current_version": 1}
    assert snapshot() == before

    # when the editor sends the version it read, quoted or bare
    renamed = api["Manager"].patch(url, {"name": "Urns"}, HTTP_IF_MATCH='"1"')
    again = api["Manager"].patch(url, {"description": "Tall"}, HTTP_IF_MATCH="2")

    # then
    assert (renamed.status_code, renamed["ETag"], renamed.json()["name"]) == (200, '"2"', "Urns")
    assert (again.status_code, again.json()["version"]) == (200, 3)
    assert api["Manager"].get(url)["ETag"] == '"3"'


def test_moving_a_category_moves_its_subtree_and_never_under_itself(api, shop):
    # given Ceramics / Vases / Tall
    tall = category_make("Tall", shop["vases"])
    url = f"/api/v1/categories/{shop['ceramics'].pk}"

    # when Ceramics moves under its own grandchild
    refused = api["Manager"].patch(url, {"parent_id": str(tall.pk)}, HTTP_IF_MATCH="1")

    # then
    error = assert_error(refused, 400, "VALIDATION_ERROR")
    assert "parent_id" in error["details"]

    # when Ceramics moves under Textiles
    moved = api["Manager"].patch(url, {"parent_id": str(shop["textiles"].pk)}, HTTP_IF_MATCH="1")

    # then the whole subtree follows
    assert moved.status_code == 200, moved.json()
    tall_body = api["Manager"].get(f"/api/v1/categories/{tall.pk}").json()
    assert (tall_body["path"], tall_body["depth"]) == ("Textiles / Ceramics / Vases / Tall", 3)
    products = api["Manager"].get("/api/v1/products", {"category": str(shop["textiles"].pk)})
    assert sorted(_names(products)) == ["Hand-thrown vase", "Woven rug"]


def test_a_category_with_live_products_or_subcategories_is_not_deleted(api, shop):
    # given
    before = snapshot()

    # when
    with_children = api["Manager"].delete(
        f"/api/v1/categories/{shop['ceramics'].pk}", HTTP_IF_MATCH="1"
    )
    with_products = api["Manager"].delete(
        f"/api/v1/categories/{shop['vases'].pk}", HTTP_IF_MATCH="1"
    )

    # then
    assert_error(with_children, 409, "CATEGORY_NOT_EMPTY")
    assert_error(with_products, 409, "CATEGORY_NOT_EMPTY")
    assert snapshot() == before


def test_an_empty_category_is_soft_deleted(api, shop):
    # given
    empty = category_make("Empty")

    # when
    response = api["Manager"].delete(f"/api/v1/categories/{empty.pk}", HTTP_IF_MATCH='"1"')

    # then it leaves the lists but its record stays
    assert response.status_code == 204
    assert "Empty" not in _names(api["Manager"].get("/api/v1/categories"))
    assert Category.objects.get(pk=empty.pk).deleted_at is not None
    assert_error(api["Manager"].get(f"/api/v1/categories/{empty.pk}"), 404, "NOT_FOUND")


# --- products ------------------------------------------------------------------------------

NEW_PRODUCT = {
    "name": "Linen throw",
    "description": "Stonewashed linen",
    "attributes": {"maker": "Loom & Field"},
    "skus": [
        {"sku": "Throw-Sand", "price": "89.00", "attributes": {"colour": "sand"}, "on_hand": 4,
         "low_stock_threshold": 1},
        {"sku": "THROW-MOSS", "price": "89.00", "attributes": {"colour": "moss"}},
    ],
}  # fmt: skip


def test_manager_creates_a_product_with_its_skus_and_stock(api, shop):
    # when
    response = api["Manager"].post(
        "/api/v1/products", {**NEW_PRODUCT, "category_id": str(shop["textiles"].pk)}
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == PRODUCT_KEYS
    assert response["ETag"] == '"1"'
    assert body["category"] == {
        "id": str(shop["textiles"].pk),
        "name": "Textiles",
        "path": "Textiles",
    }
    by_code = {sku["sku"]: sku for sku in body["skus"]}
    sand = by_code["Throw-Sand"]
    assert set(sand) == SKU_KEYS
    assert sand["name"] == "Linen throw — sand"
    assert (sand["price"], sand["currency"], sand["low_stock_threshold"]) == ("89.00", "USD", 1)
    assert sand["stock"] == {"on_hand": 4, "allocated": 0, "available": 4, "damaged": 0}
    assert by_code["THROW-MOSS"]["stock"]["on_hand"] == 0
    created = AuditRecord.objects.filter(entity_type="SKU", transition="create")
    assert set(created.values_list("entity_number", flat=True)) >= {"Throw-Sand", "THROW-MOSS"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"skus": []}, "skus"),
        ({"skus": [{"sku": "bad code!", "price": "1.00"}]}, "skus.0.sku"),
        ({"skus": [{"sku": "X-1", "price": 1.5}]}, "skus.0.price"),
        ({"skus": [{"sku": "X-1", "price": "1.00", "on_hand": "3"}]}, "skus.0.on_hand"),
        ({"skus": [{"sku": "X-1", "price": "1.00", "currency": "XXY"}]}, "skus.0.currency"),
        ({"skus": [{"sku": "vase-cel", "price": "1.00"}]}, "skus.0.sku"),
        ({"skus": [{"sku": "N-1", "price": "1.00"}, {"sku": "n-1", "price": "1.00"}]},
         "skus.1.sku"),
        ({"active": "yes"}, "active"),
        ({"attributes": ["not", "an", "object"]}, "attributes"),
        # PostgreSQL's jsonb cannot hold a NUL character: refused, wherever it hides.
        ({"attributes": {"glaze\u0000": "celadon"}}, "attributes"),
        ({"attributes": {"glaze": ["celadon", {"note": "a\u0000b"}]}}, "attributes"),
        ({"skus": [{"sku": "X-1", "price": "1.00", "attributes": {"k": "\u0000"}}]},
         "skus.0.attributes"),
        ({"category_id": "6d7d2f0e-0000-4000-8000-000000000000"}, "category_id"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_a_bad_product_is_refused_and_nothing_written(api, shop, change, field):
    # given
    before = snapshot()
    payload = {**NEW_PRODUCT, "category_id": str(shop["textiles"].pk), **change}

    # when
    response = api["Manager"].post("/api/v1/products", payload)

    # then
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in error["details"]
    assert snapshot() == before


@pytest.mark.parametrize("role", ["Warehouse", "Support", "Integrator"])
def test_only_managers_create_products(api, shop, role):
    payload = {**NEW_PRODUCT, "category_id": str(shop["textiles"].pk)}
    assert_error(api[role].post("/api/v1/products", payload), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "stoneware"}, ["Hand-thrown vase"]),
        ({"search": "rug-m"}, ["Woven rug"]),
        ({"sku": "vase-cel"}, ["Hand-thrown vase"]),
        ({"sku": "VASE"}, []),
        ({"name": "WOVEN"}, ["Woven rug"]),
        ({"description": "wheel"}, ["Hand-thrown vase"]),
        ({"active": "false"}, ["Inactive jug"]),
    ],
)
def test_products_filter_by_search_sku_name_description_and_active(api, shop, query, expected):
    # given
    product_make("Inactive jug", shop["ceramics"], {"sku": "JUG-1"}, active=False)
    query = {"category": str(shop["ceramics"].pk), **query} if "active" in query else query

    # when
    names = _names(api["Integrator"].get("/api/v1/products", query))

    # then
    assert names == expected


def test_products_of_a_category_include_its_subcategories(api, shop):
    response = api["Support"].get("/api/v1/products", {"category": str(shop["ceramics"].pk)})
    assert _names(response) == ["Hand-thrown vase"]


@pytest.mark.parametrize(
    "query", [{"active": "maybe"}, {"category": "nope"}, {"name": ""}, {"deleted": "false"}]
)
def test_bad_or_empty_product_filters_are_400(api, shop, query):
    response = api["Manager"].get("/api/v1/products", query)
    assert_error(response, 400, "VALIDATION_ERROR")


def test_product_list_reads_a_constant_number_of_queries(api, shop, django_assert_max_num_queries):
    # given many more products
    for index in range(15):
        product_make(
            f"Bowl {index}", shop["vases"], {"sku": f"BWL-{index}"}, {"sku": f"BWX-{index}"}
        )

    # then a page costs the same few statements (auth, count, rows, SKUs with stock, paths)
    with django_assert_max_num_queries(7):
        response = api["Manager"].get("/api/v1/products", {"page_size": 100})
    assert response.json()["count"] >= 17


def test_patch_changes_a_product_and_raises_its_version(api, shop):
    # given
    url = f"/api/v1/products/{shop['vase'].pk}"

    # when
    response = api["Manager"].patch(
        url, {"name": "Thrown vase", "active": False}, HTTP_IF_MATCH='"1"'
    )

    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["active"], body["version"]) == ("Thrown vase", False, 2)
    assert response["ETag"] == '"2"'
    record = AuditRecord.objects.get(entity_id=shop["vase"].pk, transition="update")
    assert record.metadata["changes"]["name"] == ["Hand-thrown vase", "Thrown vase"]
    assert shop["vase"].history.first().history_user is not None


def test_delete_takes_the_skus_and_restore_brings_them_back(api, shop):
    # given a SKU deleted on its own before: it stays deleted after the restore
    vase = shop["vase"]
    ten = vase.skus.get(code="VASE-TEN")
    assert api["Manager"].delete(f"/api/v1/skus/{ten.pk}", HTTP_IF_MATCH="1").status_code == 204

    # when
    deleted = api["Manager"].delete(f"/api/v1/products/{vase.pk}", HTTP_IF_MATCH="1")

    # then
    assert deleted.status_code == 204
    assert_error(api["Manager"].get(f"/api/v1/products/{vase.pk}"), 404, "NOT_FOUND")
    assert "Hand-thrown vase" not in _names(api["Manager"].get("/api/v1/products"))
    listed = api["Manager"].get("/api/v1/products", {"deleted": "true"})
    assert _names(listed) == ["Hand-thrown vase"]
    assert_error(
        api["Support"].get("/api/v1/products", {"deleted": "true"}), 403, "PERMISSION_DENIED"
    )

    # when
    restored = api["Manager"].post(f"/api/v1/products/{vase.pk}/restore")

    # then
    assert restored.status_code == 200, restored.json()
    assert [s["sku"] for s in restored.json()["skus"]] == ["Vase-Cel"]
    assert restored.json()["deleted_at"] is None


def test_restore_is_refused_when_a_live_sku_took_the_code(api, shop):
    # given the vase is deleted and its celadon code taken (in another case) meanwhile
    vase = shop["vase"]
    api["Manager"].delete(f"/api/v1/products/{vase.pk}", HTTP_IF_MATCH="1")
    product_make("Copy vase", shop["vases"], {"sku": "VASE-CEL"})
    before = snapshot()

    # when
    response = api["Manager"].post(f"/api/v1/products/{vase.pk}/restore")

    # then
    error = assert_error(response, 409, "SKU_CODE_TAKEN")
    assert error["details"] == {"sku": "Vase-Cel"}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (lambda shop: {"ids": [str(shop["rug"].pk)], "confirm": True}, ["Woven rug"]),
        (lambda shop: {"filter": {"category": str(shop["ceramics"].pk)}, "confirm": True},
         ["Hand-thrown vase"]),
        (lambda shop: {"filter": {"search": "woven"}, "confirm": True}, ["Woven rug"]),
    ],
)  # fmt: skip
def test_bulk_delete_by_ids_or_filter(api, shop, body, expected):
    # when
    response = api["Manager"].post("/api/v1/products/bulk-delete", body(shop))

    # then
    assert response.status_code == 200, response.json()
    assert response.json() == {"deleted": len(expected)}
    assert sorted(Product.objects.deleted().values_list("name", flat=True)) == expected
    assert not Sku.objects.live().filter(product__name__in=expected).exists()


def test_bulk_delete_all_then_restore_one(api, shop):
    # when
    response = api["Manager"].post("/api/v1/products/bulk-delete", {"all": True, "confirm": True})

    # then
    assert response.json()["deleted"] == Product.objects.count()
    assert not Sku.objects.live().exists()
    restored = api["Manager"].post(f"/api/v1/products/{shop['rug'].pk}/restore")
    assert [s["sku"] for s in restored.json()["skus"]] == ["RUG-MTO"]


@pytest.mark.parametrize(
    "body",
    [
        {"all": True},
        {"all": True, "confirm": False},
        {"ids": [], "confirm": True},
        {"confirm": True},
        {"all": True, "ids": ["6d7d2f0e-0000-4000-8000-000000000000"], "confirm": True},
        {"filter": {"active": "sometimes"}, "confirm": True},
    ],
)
def test_bulk_delete_needs_confirmation_and_one_selection(api, shop, body):
    before = snapshot()
    assert_error(api["Manager"].post("/api/v1/products/bulk-delete", body), 400, "VALIDATION_ERROR")
    assert snapshot() == before


def test_bulk_delete_is_for_managers(api, shop):
    response = api["Support"].post("/api/v1/products/bulk-delete", {"all": True, "confirm": True})
    assert_error(response, 403, "PERMISSION_DENIED")


# --- SKUs ----------------------------------------------------------------------------------


def test_manager_adds_a_sku_whose_code_is_unique_in_any_case(api, shop):
    # given
    payload = {"product_id": str(shop["vase"].pk), "sku": "Vase-Ash", "price": "55.00",
               "attributes": {"glaze": "ash"}, "low_stock_threshold": 1}  # fmt: skip

    # when
    created = api["Manager"].post("/api/v1/skus", payload)
    duplicate = api["Manager"].post("/api/v1/skus", {**payload, "sku": "VASE-ash"})

    # then
    assert created.status_code == 201, created.json()
    assert (created.json()["sku"], created.json()["name"]) == ("Vase-Ash", "Hand-thrown vase — ash")
    assert created["ETag"] == '"1"'
    error = assert_error(duplicate, 400, "VALIDATION_ERROR")
    assert "sku" in error["details"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sku": "vase-ten"}, ["VASE-TEN"]),
        ({"active": "false"}, []),
        ({"low_stock": "true"}, ["VASE-TEN"]),
    ],
)
def test_skus_filter_by_code_product_active_and_low_stock(api, shop, query, expected):
    # given VASE-TEN (3 on hand) at its threshold
    ten = Sku.objects.get(code="VASE-TEN")
    api["Manager"].patch(f"/api/v1/skus/{ten.pk}", {"low_stock_threshold": 3}, HTTP_IF_MATCH="1")

    # when
    query = {"product_id": str(shop["vase"].pk), **query}
    response = api["Warehouse"].get("/api/v1/skus", query)

    # then
    assert [row["sku"] for row in response.json()["results"]] == expected


def test_sku_patch_with_the_same_if_match_twice_one_wins(api, shop):
    # given
    sku = Sku.objects.get(code="Vase-Cel")
    url = f"/api/v1/skus/{sku.pk}"

    # when
    first = api["Manager"].patch(url, {"price": "51.00"}, HTTP_IF_MATCH='"1"')
    second = api["Manager"].patch(url, {"price": "60.00"}, HTTP_IF_MATCH='"1"')

    # then
    assert (first.status_code, first.json()["price"]) == (200, "51.00")
    assert assert_error(second, 412, "PRECONDITION_FAILED")["details"] == {"current_version": 2}
    assert Sku.objects.get(pk=sku.pk).price == 51


def test_sku_delete_and_restore_refused_while_its_code_is_taken(api, shop):
    # given
    sku = Sku.objects.get(code="VASE-TEN")
    assert api["Manager"].delete(f"/api/v1/skus/{sku.pk}", HTTP_IF_MATCH="1").status_code == 204
    taken = api["Manager"].post(
        "/api/v1/skus", {"product_id": str(shop["vase"].pk), "sku": "vase-ten", "price": "1.00"}
    )
    assert taken.status_code == 201, taken.json()

    # when
    refused = api["Manager"].post(f"/api/v1/skus/{sku.pk}/restore")
    api["Manager"].delete(f"/api/v1/skus/{taken.json()['id']}", HTTP_IF_MATCH="1")
    restored = api["Manager"].post(f"/api/v1/skus/{sku.pk}/restore")

    # then
    assert assert_error(refused, 409, "SKU_CODE_TAKEN")["details"] == {"sku": "VASE-TEN"}
    assert (restored.status_code, restored.json()["deleted_at"]) == (200, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"price": 10}, "price"), ({"low_stock_threshold": "2"}, "low_stock_threshold"),
     ({"track_inventory": 1}, "track_inventory"), ({"price": "1.001"}, "price"),
     ({"sku": "x" * 65}, "sku")],
)  # fmt: skip
def test_sku_types_are_strict(api, shop, change, field):
    sku = Sku.objects.get(code="VASE-TEN")
    response = api["Manager"].patch(f"/api/v1/skus/{sku.pk}", change, HTTP_IF_MATCH="1")
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["details"]


def _writes(shop) -> list[tuple[str, str, dict]]:
    sku = Sku.objects.get(code="VASE-TEN")
    return [
        ("post", "/api/v1/categories", {"name": "Jugs"}),
        ("patch", f"/api/v1/categories/{shop['vases'].pk}", {"name": "Urns"}),
        ("delete", f"/api/v1/categories/{shop['textiles'].pk}", {}),
        ("post", "/api/v1/products", {**NEW_PRODUCT, "category_id": str(shop["textiles"].pk)}),
        ("patch", f"/api/v1/products/{shop['vase'].pk}", {"name": "Jar"}),
        ("delete", f"/api/v1/products/{shop['vase'].pk}", {}),
        ("post", f"/api/v1/products/{shop['vase'].pk}/restore", {}),
        ("post", "/api/v1/products/bulk-delete", {"all": True, "confirm": True}),
        ("post", "/api/v1/skus", {"product_id": str(shop["vase"].pk), "sku": "N-1",
                                  "price": "1.00"}),
        ("patch", f"/api/v1/skus/{sku.pk}", {"price": "1.00"}),
        ("delete", f"/api/v1/skus/{sku.pk}", {}),
        ("post", f"/api/v1/skus/{sku.pk}/restore", {}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["Warehouse", "Support", "Integrator"])
def test_no_role_but_managers_changes_the_catalogue(api, shop, role):
    before = snapshot()
    for method, path, body in _writes(shop):
        response = getattr(api[role], method)(path, body, HTTP_IF_MATCH="1")
        assert_error(response, 403, "PERMISSION_DENIED")
    assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_products_and_skus(api, shop, role):
    sku = Sku.objects.get(code="VASE-TEN")
    for path in ["/api/v1/products", f"/api/v1/products/{shop['vase'].pk}", "/api/v1/skus",
                 f"/api/v1/skus/{sku.pk}", f"/api/v1/categories/{shop['vases'].pk}"]:  # fmt: skip
        response = api[role].get(path)
        assert response.status_code == 200, (path, response.json())
    assert api[role].get(f"/api/v1/skus/{sku.pk}")["ETag"] == '"1"'


def test_ids_that_are_not_uuids_are_404(api, shop):
    bogus = "-" * 36
    for method, path in [("get", f"/api/v1/categories/{bogus}"),
                         ("patch", f"/api/v1/categories/{bogus}"),
                         ("get", f"/api/v1/products/{bogus}"),
                         ("post", f"/api/v1/skus/{bogus}/stock"),
                         ("delete", f"/api/v1/skus/{bogus}")]:  # fmt: skip
        body = {"delta": 1, "reason": "x"} if path.endswith("stock") else {}
        response = getattr(api["Manager"], method)(path, body, HTTP_IF_MATCH="1")
        assert_error(response, 404, "NOT_FOUND")


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_a_bulk_delete_runs_under_the_bulk_limit_not_the_requests(api, shop, settings):
    # given a connection with a request's statement limit, and the bulk limit at 5 minutes
    settings.DATABASE_BULK_STATEMENT_TIMEOUT = 300

    # when a manager deletes every product (the limit in force read inside its transaction)
    with statement_timeout_seen_on(audit_recorded) as seen:
        response = api["Manager"].post(
            "/api/v1/products/bulk-delete", {"all": True, "confirm": True}
        )

    # then its UPDATEs ran under the bulk limit, and the connection has its own limit again
    assert response.status_code == 200, response.json()
    assert response.json() == {"deleted": 2}  # the vase (two SKUs) and the rug
    assert seen == ["5min"]
    assert statement_timeout_show() == "5s"
