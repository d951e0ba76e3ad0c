"""The many names of one SAML attribute.

Identity providers name the same attribute differently: by OID with the `uri` NameFormat (`urn:oid:2.5.4.42`,
often without a FriendlyName), by its LDAP/eduPerson name (`givenName`), by the SAML 1 style of older
Shibboleth setups (`urn:mace:dir:attribute-def:givenName`), or, for ADFS, by a claim type URI. An attribute
arriving under any of these names is made available under all of them, so that the profile mapping and the
administrators' role mappings match whichever one they were written with.
"""

from __future__ import annotations

# Friendly name -> OID (the X.500/LDAP, eduPerson and SCHAC registrations, and the names docs/SSO.md lists).
KNOWN_OIDS: dict[str, str] = {
    "eduPersonEntitlement": "1.3.6.1.4.1.5923.1.1.1.7",
    "eduPersonPrincipalName": "1.3.6.1.4.1.5923.1.1.1.6",
    "eduPersonAffiliation": "1.3.6.1.4.1.5923.1.1.1.1",
    "eduPersonScopedAffiliation": "1.3.6.1.4.1.5923.1.1.1.9",
    "mail": "0.9.2342.19200300.100.1.3",
    "displayName": "2.16.840.1.113730.3.1.241",
    "givenName": "2.5.4.42",
    "sn": "2.5.4.4",
    "cn": "2.5.4.3",
    "uid": "0.9.2342.19200300.100.1.1",
    "telephoneNumber": "2.5.4.20",
    "mobile": "0.9.2342.19200300.100.1.41",
    "memberOf": "1.2.840.113556.1.2.102",
    "schacPersonalUniqueID": "1.3.6.1.4.1.25178.1.2.15",
    "serialNumber": "2.5.4.5",
    "ou": "2.5.4.11",
    "o": "2.5.4.10",
    "title": "2.5.4.12",
    "employeeType": "2.16.840.1.113730.3.1.4",
}
# ADFS sends claims with their claim type URI as the attribute name (its "Outgoing claim type").
ADFS_CLAIMS: dict[str, str] = {
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "mail",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": "givenName",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": "sn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "eduPersonPrincipalName",
    "http://schemas.xmlsoap.org/claims/CommonName": "cn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/mobilephone": "mobile",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "role",
}
_MACE = "urn:mace:dir:attribute-def:"


def _canonical_index() -> dict[str, str]:
    """Every spelling (case-folded) -> the friendly name."""
    index: dict[str, str] = {}
    for friendly, oid in KNOWN_OIDS.items():
        for spelling in (friendly, oid, f"urn:oid:{oid}", f"{_MACE}{friendly}"):
            index[spelling.casefold()] = friendly
    for claim, friendly in ADFS_CLAIMS.items():
        index[claim.casefold()] = friendly
    return index


_INDEX = _canonical_index()


def spellings(name: str) -> tuple[str, ...]:
    """Every name under which this attribute may be looked for: itself first, then its other known spellings."""
    friendly = _INDEX.get(name.casefold())
    if friendly is None:
        return (name,)
    names = [name, friendly]
    oid = KNOWN_OIDS.get(friendly)
    if oid is not None:
        names += [f"urn:oid:{oid}", oid, f"{_MACE}{friendly}"]
    return tuple(dict.fromkeys(names))


def with_all_names(attributes: dict[str, list[str]]) -> dict[str, list[str]]:
    """The attributes, each also under its other known names (a name the IdP really sent keeps its values)."""
    result = {name: list(values) for name, values in attributes.items()}
    for name, values in attributes.items():
        for other in spellings(name)[1:]:
            result.setdefault(other, list(values))
    return result
