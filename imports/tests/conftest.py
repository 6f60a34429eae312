import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import TEST_CONTEXT
from imports.models import Import
from imports.services import import_create, import_process


def csv_file(text: str, *, name: str = "skus.csv", bom: bool = False) -> SimpleUploadedFile:
    data = text.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def run_import(users, settings, tmp_path):
    """Uploads a CSV as the manager and runs its job to the end in this thread (the actor's
    body); returns the import as it ended."""
    settings.MEDIA_ROOT = tmp_path

    def run(text: str, **kwargs) -> Import:
        imp = import_create(file=csv_file(text, **kwargs), actor=users["Manager"],
                            context=TEST_CONTEXT)  # fmt: skip
        import_process(import_id=imp.pk)
        imp.refresh_from_db()
        return imp

    return run
