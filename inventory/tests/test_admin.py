"""The catalogue and stock back-office pages: the category tree, products with their SKUs and stock,
filters, soft delete and restore, and a stale save refused with who changed it and when."""

import pytest
from django.urls import reverse

from catalogue.models import Category, Product, Sku
from catalogue.services import product_update
from catalogue.tests.conftest import category_make, product_make
from conftest import TEST_CONTEXT
from inventory.models import StockMovement

pytestmark = pytest.mark.empty_catalogue


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


def _listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_category_tree_is_indented_with_product_counts(login, shop):
    # given
    category_make("Tall", shop["vases"])

    # when
    response = login("Manager").get(reverse("admin:catalogue_category_changelist"))

    # then the tree reads in order, each level indented, with its live products counted
    rows = {c.name: c for c in _listed(response)}
    assert rows["Vases"].live_products == 1 and rows["Ceramics"].live_children == 1
    html = response.content.decode()
    assert 'padding-left:3.0rem">└ Tall' in html
    assert 'padding-left:1.5rem">└ Vases' in html
    listed = [c.name for c in _listed(response)]
    assert listed.index("Ceramics") < listed.index("Vases") < listed.index("Tall")


def test_product_page_shows_its_skus_with_stock(login, shop):
    response = login("Manager").get(
        reverse("admin:catalogue_product_change", args=[shop["vase"].pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Vase-Cel" in html and "VASE-TEN" in html
    inline = response.context["inline_admin_formsets"][0]
    assert [form.original.stock.on_hand for form in inline] == [3, 12]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sku": "vase-ten"}, ["Hand-thrown vase"]),
        ({"name": "woven"}, ["Woven rug"]),
        ({"description": "wheel"}, ["Hand-thrown vase"]),
        ({"active__exact": "0"}, ["Jug"]),
        ({"q": "rug-mto"}, ["Woven rug"]),
    ],
)
def test_product_filters(login, shop, query, expected):
    product_make("Jug", shop["ceramics"], {"sku": "JUG-1"}, active=False)
    response = login("Manager").get(reverse("admin:catalogue_product_changelist"), query)
    assert [p.name for p in _listed(response)] == expected


def test_category_filter_includes_subcategories(login, shop):
    url = reverse("admin:catalogue_product_changelist")
    response = login("Support").get(url, {"category": str(shop["ceramics"].pk)})
    assert [p.name for p in _listed(response)] == ["Hand-thrown vase"]


def test_deleted_products_have_their_own_filter_and_a_restore_action(login, shop):
    # given
    client = login("Manager")
    url = reverse("admin:catalogue_product_changelist")
    client.post(url, {"action": "delete_soft", "_selected_action": [shop["rug"].pk]})
    assert Product.objects.get(pk=shop["rug"].pk).deleted_at is not None
    assert [p.name for p in _listed(client.get(url))] == ["Hand-thrown vase"]
    assert [p.name for p in _listed(client.get(url, {"life": "deleted"}))] == ["Woven rug"]

    # when
    response = client.post(
        url + "?life=deleted", {"action": "restore", "_selected_action": [shop["rug"].pk]},
        follow=True,
    )  # fmt: skip

    # then
    assert "Woven rug: restored." in response.content.decode()
    assert Sku.objects.get(code="RUG-MTO").deleted_at is None


def test_a_manager_edits_a_product_through_its_service(login, shop, users):
    # given
    client = login("Manager")
    url = reverse("admin:catalogue_product_change", args=[shop["vase"].pk])
    form = client.get(url).context["adminform"].form

    # when
    response = client.post(url, {**_form_data(form), "name": "Thrown vase"}, follow=True)

    # then
    assert response.status_code == 200
    vase = Product.objects.get(pk=shop["vase"].pk)
    assert (vase.name, vase.version) == ("Thrown vase", 2)
    assert vase.history.first().history_user == users["Manager"]


def test_attributes_that_are_not_a_json_object_are_refused(login, shop):
    # given
    client = login("Manager")
    url = reverse("admin:catalogue_product_change", args=[shop["vase"].pk])
    form = client.get(url).context["adminform"].form

    # when the attributes are a JSON string, not an object
    response = client.post(url, {**_form_data(form), "attributes": '"Studio Oka"'})

    # then the form says so and nothing is saved
    assert response.status_code == 200
    assert "A JSON object" in response.content.decode()
    vase = Product.objects.get(pk=shop["vase"].pk)
    assert (vase.attributes, vase.version) == ({"maker": "Studio Oka"}, 1)


def test_a_stale_save_is_refused_naming_who_changed_it_and_when(login, shop, users):
    # given the manager opens the vase, then the admin renames it
    client = login("Manager")
    url = reverse("admin:catalogue_product_change", args=[shop["vase"].pk])
    form = client.get(url).context["adminform"].form
    product_update(product_id=shop["vase"].pk, actor=users["admin"], context=TEST_CONTEXT,
                   expected_version=1, name="Renamed meanwhile")  # fmt: skip

    # when the first editor saves the page they opened
    response = client.post(url, {**_form_data(form), "description": "Mine"})

    # then nothing is saved and the page says who changed it and when
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not saved: admin changed this at" in html
    assert "now version 2" in html
    assert "They changed: name." in html
    vase = Product.objects.get(pk=shop["vase"].pk)
    assert (vase.name, vase.description, vase.version) == (
        "Renamed meanwhile", "Stoneware, thrown on the wheel", 2,
    )  # fmt: skip


def test_the_warehouse_adjusts_stock_with_a_reason(login, shop, users):
    # given
    client = login("Warehouse")
    url = reverse("admin:catalogue_sku_changelist")
    sku = Sku.objects.get(code="VASE-TEN")

    # when the action asks for the delta and reason, then applies it
    asked = client.post(url, {"action": "adjust_stock", "_selected_action": [sku.pk]})
    done = client.post(
        url,
        {"action": "adjust_stock", "_selected_action": [sku.pk], "apply": "1", "delta": "5",
         "reason": "kiln batch"},
        follow=True,
    )  # fmt: skip

    # then
    assert "Adjust stock" in asked.content.decode()
    assert "VASE-TEN: 8 on hand." in done.content.decode()
    movement = StockMovement.objects.filter(sku=sku).order_by("-created_at").first()
    assert (movement.reason, movement.delta_on_hand, movement.note, movement.actor) == (
        "ADJUSTED", 5, "kiln batch", users["Warehouse"],
    )  # fmt: skip


def test_support_cannot_adjust_stock_and_movements_are_read_only(login, shop):
    client = login("Support")
    sku = Sku.objects.get(code="VASE-TEN")
    url = reverse("admin:catalogue_sku_changelist")
    client.post(url, {"action": "adjust_stock", "_selected_action": [sku.pk], "apply": "1",
                      "delta": "5", "reason": "x"})  # fmt: skip
    assert sku.stock.on_hand == 3
    movement = StockMovement.objects.first()
    manager = login("Manager")
    assert manager.get(reverse("admin:inventory_stockmovement_changelist")).status_code == 200
    assert manager.get(reverse("admin:inventory_stockmovement_add")).status_code == 403
    detail = manager.get(reverse("admin:inventory_stockmovement_change", args=[movement.pk]))
    assert b'name="_save"' not in detail.content
    filtered = manager.get(
        reverse("admin:inventory_stockmovement_changelist"), {"reason__exact": "ADJUSTED"}
    )
    assert {m.reason for m in _listed(filtered)} == {"ADJUSTED"}


def test_categories_are_moved_in_the_admin_and_refused_under_themselves(login, shop):
    client = login("Manager")
    url = reverse("admin:catalogue_category_change", args=[shop["ceramics"].pk])
    form = client.get(url).context["adminform"].form
    response = client.post(url, {**_form_data(form), "parent": str(shop["vases"].pk)},
                           follow=True)  # fmt: skip
    assert "Not saved: A category cannot move under itself" in response.content.decode()
    assert Category.objects.get(pk=shop["ceramics"].pk).parent is None


def _form_data(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value  # BoundField.value() is already prepared (JSON as its text)
    # the SKU inline's management form (read-only rows)
    data.update({"skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0"})
    return data


def test_a_manager_adds_a_product_with_its_first_sku_and_a_sku_with_stock(login, shop):
    # given
    client = login("Manager")

    # when
    product = client.post(
        reverse("admin:catalogue_product_add"),
        {"name": "Raku bowl", "description": "", "category": str(shop["ceramics"].pk),
         "attributes": "{}", "active": "on", "first_sku": "RAKU-1", "first_price": "32.00",
         "first_currency": "usd", "first_on_hand": "4"},
    )  # fmt: skip
    raku = Product.objects.get(name="Raku bowl")
    sku = client.post(
        reverse("admin:catalogue_sku_add"),
        {"product": str(raku.pk), "code": "RAKU-2", "attributes": '{"glaze": "white"}',
         "price": "35.00", "currency": "USD", "track_inventory": "on",
         "low_stock_threshold": "1", "active": "on", "on_hand": "2"},
    )  # fmt: skip

    # then both went through the services: stock, movements, audit
    assert product.status_code == 302 and sku.status_code == 302
    levels = {s.code: (s.currency, s.stock.on_hand) for s in raku.skus.all()}
    assert levels == {"RAKU-1": ("USD", 4), "RAKU-2": ("USD", 2)}
    assert StockMovement.objects.filter(sku__product=raku, reason="ADJUSTED").count() == 2


def test_warehouse_and_managers_see_the_low_stock_queue_support_does_not(login, shop):
    # given a one-of-a-kind jar with its last unit, under its threshold of 2
    jar = product_make(
        "Moon jar", shop["vases"], {"sku": "MOON-1", "on_hand": 1, "low_stock_threshold": 2}
    )
    sku = jar.skus.get()

    # when warehouse opens the dashboard
    page = login("Warehouse").get(reverse("admin:index")).content.decode()

    # then the low-stock queue names the jar with what is left, linked to its SKU page, and the
    # sidebar links to the SKU list filtered to low stock
    assert "Low stock" in page
    assert "MOON-1 · Moon jar" in page and "1 left" in page
    assert reverse("admin:catalogue_sku_change", args=[sku.pk]) in page
    assert f"{reverse('admin:catalogue_sku_changelist')}?stock=low" in page
    assert "Vase-Cel" not in page  # 12 on hand, above its threshold
    # and the filtered list holds exactly the low SKUs
    low = _listed(login("Manager").get(reverse("admin:catalogue_sku_changelist"), {"stock": "low"}))
    assert [s.code for s in low] == ["MOON-1"]
    assert "MOON-1 · Moon jar" in login("Manager").get(reverse("admin:index")).content.decode()
    # and support, who does not handle stock, has no such queue
    assert "MOON-1" not in login("Support").get(reverse("admin:index")).content.decode()
