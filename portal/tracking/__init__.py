"""Public tracking of a dossier by its code and the short secret printed on the receipt: no sign-in."""
