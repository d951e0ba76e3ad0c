"""Services of the administration pages. They flush; the views commit or roll back."""
