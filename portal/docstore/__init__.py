"""The citizen's document store ("Kho dữ liệu cá nhân"): accepted attachments and issued results kept for reuse in
later applications (services.py; the pages are on the citizen blueprint, portal/citizen/docstore_views.py)."""
