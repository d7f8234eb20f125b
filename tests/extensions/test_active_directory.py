"""The ``ldap`` host API against an Active Directory look-alike (tests/extensions/ad_directory.py: a
real slapd with AD's attribute names, layout, binary identifiers and 1,000-entry answers). The guide
says the same API serves LDAP and Active Directory; these are its LDAP example and the look-ups an
administrator writes for AD, run as printed but for the server's address and names."""

from __future__ import annotations

import pytest

from extensions.errors import ExtensionError
from extensions.hosts import ldap as ldap_host
from tests.extensions import ad_directory as ad
from tests.extensions import slapd
from tests.extensions.test_host_apis import LDAP_EXAMPLE
from tests.extensions.test_host_apis import call as host_call


@pytest.fixture(scope="module")
def domain(tmp_path_factory):
    server = slapd.start(tmp_path_factory.mktemp("ad"), directory=ad.directory())
    yield server
    ldap_host.close_all()
    server.stop()


def call(script: str, *args):
    return host_call(script, *args).value


def connect(domain) -> str:
    return f"ldap.connect('{domain.url}', '{ad.SERVICE}', '{ad.SERVICE_PASSWORD}');"


def test_the_guides_example_runs_against_the_domain(domain):
    """As printed, with the domain controller's address, the service account and the domain's
    base in place of the guide's placeholders."""
    script = LDAP_EXAMPLE % {
        "url": domain.url,
        "principal": ad.SERVICE,
        "password": ad.SERVICE_PASSWORD,
        "base": ad.BASE,
    }
    assert call(script, {"id": "John Smith"}) == "Smith"


def test_a_person_is_found_by_account_name_and_by_principal_name(domain):
    script = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      var byAccount = ldap.search('{ad.USERS}',
          '(&(objectClass=user)(sAMAccountName=' + ldap.escape(modelPerson.id) + '))',
          ['userPrincipalName', 'mail', 'displayName']);
      var byPrincipal = ldap.search('{ad.BASE}',
          'userPrincipalName=' + ldap.escape(byAccount[0].userPrincipalName), ['sAMAccountName']);
      return [byAccount.length, byAccount[0].userPrincipalName, byAccount[0].mail,
              byAccount[0].displayName, byPrincipal[0].sAMAccountName,
              byPrincipal[0].dn.toLowerCase()];
    }}"""
    assert call(script, {"id": "JSmith"}) == [  # AD compares account names case-insensitively
        1,
        "jsmith@corp.example.com",
        "john.smith@example.com",
        "John Smith",
        "jsmith",
        # slapd writes a DN's attribute types as its schema spells them (cn=, dc=); AD writes CN=, DC=.
        f"CN=John Smith,{ad.USERS}".lower(),
    ]


def test_group_membership_arrives_as_an_array_of_dns(domain):
    script = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      var found = ldap.search('{ad.BASE}', 'sAMAccountName=' + ldap.escape(modelPerson.id), ['memberOf']);
      var one = ldap.search('{ad.BASE}', 'sAMAccountName=mbrown', ['memberOf', 'sn']);
      return [found[0].memberOf, 'memberOf' in one[0]];
    }}"""
    assert call(script, {"id": "jsmith"}) == [list(ad.GROUPS), False]


def test_the_binary_identifiers_arrive_in_their_ad_text_forms(domain):
    """objectGUID and objectSid are binary; a script gets them as AD's tools print them."""
    script = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      var found = ldap.search('{ad.BASE}', 'sAMAccountName=jsmith', ['objectGUID', 'objectSid']);
      return [found[0].objectGUID, found[0].objectSid];
    }}"""
    assert call(script, {"id": "jsmith"}) == [
        "{" + str(ad.JOHN_GUID) + "}",
        "S-1-5-21-2127521184-1604012920-1887927527-1105",
    ]


def test_a_search_past_the_domains_1000_entries_an_answer_is_read_page_by_page(domain):
    """AD answers at most 1,000 entries per search unless the client pages; ``ldap.search`` pages,
    so a search for 1,001-1,024 entries gets them all."""
    script = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      var found = ldap.search('{ad.USERS}', '(&(objectClass=user)(sAMAccountName=user1*))', ['sn']);
      var all = {{}};
      found.forEach(function (e) {{ all[e.dn] = true; }});
      return [found.length, Object.keys(all).length];
    }}"""
    assert call(script, {"id": "x"}) == [100, 100]  # user1000-user1099
    many = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      var filter = '(&(objectClass=user)(|(sAMAccountName=user0*)(sAMAccountName=user100*)' +
          '(sAMAccountName=user101*)(sAMAccountName=user1020)(sAMAccountName=user1021)' +
          '(sAMAccountName=user1022)(sAMAccountName=user1023)))';
      return ldap.search('{ad.USERS}', filter, ['cn']).length;
    }}"""
    assert call(many, {"id": "x"}) == 1000 + 24  # user0000-user0999 and user1000-user1023


def test_more_entries_than_one_search_may_give_fail_with_1005E_saying_so(domain):
    script = f"""function mapPersonToRepository(modelPerson) {{
      {connect(domain)}
      return ldap.search('{ad.USERS}', 'objectClass=user', ['cn']).length;
    }}"""
    with pytest.raises(ExtensionError) as failed:
        call(script, {"id": "x"})
    assert failed.value.code == "CCRRTT-1005E"
    assert "more than 1,024" in failed.value.message


def test_binding_with_the_wrong_password_is_1004E(domain):
    script = f"""function mapPersonToRepository(modelPerson) {{
      ldap.connect('{domain.url}', '{ad.SERVICE}', 'wrong');
      return ldap.search('{ad.BASE}', 'sAMAccountName=jsmith');
    }}"""
    with pytest.raises(ExtensionError) as failed:
        call(script, {"id": "x"})
    assert failed.value.code == "CCRRTT-1004E"

