"""Single sign-on through the province's SAML 2.0 identity provider(s) (docs/SSO.md).

provider.py is the only module that uses python3-saml; services.py and accounts.py keep accounts in step with
the identity provider; views.py holds the /sso/<idp>/… endpoints; testidp.py is a local IdP for trying it out.
"""
