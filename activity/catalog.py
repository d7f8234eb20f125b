"""The catalog of every error, warning and information code that Hub shows.

This module is the one place where Hub's message codes live. Activities and blockers record a code
from here, and the help pages and the Activity screen read the title, description and suggested
action from here, so a code is explained the same way wherever it appears.

Codes and titles are an interface: they follow the error message appendix of the product
documentation exactly (with the product called "Hub"), and other code matches on them. Descriptions
and actions are Hub's own wording and may be improved freely. The last letter of a code gives its
severity: E error, W warning, I information.

The module needs nothing but the standard library, so it can be imported without Django settings.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

CODE_PATTERN = re.compile(r"CCRRTT-\d{4,5}[EWI]")

_PREFIX = "CCRRTT-"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


_SEVERITY_BY_SUFFIX = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFORMATION}


@dataclass(frozen=True)
class CatalogEntry:
    code: str  # "CCRRTT-17011E"
    title: str  # shown as the headline of the message
    description: str  # what happened, in one to three sentences
    action: str  # what the user should do about it

    @property
    def severity(self) -> Severity:
        return _SEVERITY_BY_SUFFIX[self.code[-1]]

    @property
    def number(self) -> str:
        """The numeric part of the code: "17011" for "CCRRTT-17011E"."""
        return self.code[len(_PREFIX) : -1]


def build_catalog(entries: Iterable[CatalogEntry]) -> dict[str, CatalogEntry]:
    """Index entries by code, refusing malformed and repeated codes."""
    catalog: dict[str, CatalogEntry] = {}
    for item in entries:
        if not CODE_PATTERN.fullmatch(item.code):
            raise ValueError(f"malformed error code {item.code!r}: expected the form CCRRTT-12345E")
        if item.code in catalog:
            raise ValueError(f"duplicate error code {item.code!r} in the catalog")
        catalog[item.code] = item
    return catalog


# Ordered by the numeric part of the code. Where two severities share a number (0006, 66003) they
# keep the order of the documentation's appendix.
ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "CCRRTT-0001E",
        "An unexpected error occurred.",
        "Hub ran into an error it did not anticipate.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-0002E",
        "The maximum number of allowable errors has been reached.",
        "Hub has reached its limit on stored errors, so any new error beyond that limit is thrown away.",
        "Go to the errors list and work through the errors already recorded.",
    ),
    CatalogEntry(
        "CCRRTT-0003E",
        "The system has run out of memory.",
        "Hub ran out of memory and has stopped its services.",
        "Give Hub more memory (the help pages explain how), then restart Hub.",
    ),
    CatalogEntry(
        "CCRRTT-0005E",
        "There is a conflicting artifact association.",
        "An artifact association could not be imported because it clashes with an association that already "
        "exists.",
        "Ask support for help.",
    ),
    CatalogEntry(
        "CCRRTT-0006W",
        "Upgrade data migration cancelled.",
        "The data migration needed by an upgraded version of Hub was cancelled, either because the "
        "configuration changed or because Hub was shut down.",
        "Nothing to do; Hub picks the migration up again on its own.",
    ),
    CatalogEntry(
        "CCRRTT-0006E",
        "Migration cannot be completed as there are errors related to disabled repositories.",
        "A migration cannot finish while there are errors tied to repositories that are disabled.",
        "Under Activity → Artifact activities → Failed, remove the activities of the named repository, or "
        "enable that repository on its page under Repositories.",
    ),
    CatalogEntry(
        "CCRRTT-1000E",
        "Unable to communicate with repository.",
        "A network problem stopped Hub from talking to a repository.",
        "Check the network path between Hub and the repository and try again later. If it keeps failing, "
        "involve your network administrator.",
    ),
    CatalogEntry(
        "CCRRTT-1002E",
        "An unexpected connector error occurred.",
        "The connector hit an error it did not anticipate.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-1003E",
        "An error occurred while executing an operation.",
        "Something failed while a connector was carrying out an operation.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-1004E",
        "Connection to LDAP directory failed.",
        "Hub hit an unanticipated problem while opening a connection to an LDAP directory.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-1005E",
        "An unexpected error occurred while communicating with an LDAP directory.",
        "Hub hit an unanticipated problem while exchanging data with an LDAP directory.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-1104W",
        "Authentication state for repository connection has expired.",
        "The authentication state held for a repository connection is no longer valid.",
        "This normally happens from time to time and Hub retries authentication on its own. If the warning "
        "keeps coming back, check the credentials stored for that repository.",
    ),
    CatalogEntry(
        "CCRRTT-1105E",
        "The project configuration is invalid.",
        "The project configuration is no longer valid, most often because a project or type was deleted or "
        "renamed in the repository; changed user permissions there can also cause it.",
        "Find the cause in the specific message, then either fix it in the repository and refresh the "
        "projects of the collection or artifact union, or remove the project (adding it back under its new "
        "name if it was renamed). Afterwards check that the routing, filters and mappings that depend on "
        "it are still correct.",
    ),
    CatalogEntry(
        "CCRRTT-1107E",
        "Connection could not be established with a repository due to a failure during authentication.",
        "Authenticating with a repository failed unexpectedly, so no connection could be made.",
        "Read the specific message shown with the error and fix the cause it describes.",
    ),
    CatalogEntry(
        "CCRRTT-1109E",
        "Project configuration is outdated.",
        "A configured project is out of date.",
        "Use the specific message to find the project, remove it from its repository collection or "
        "artifact union, refresh the list under Manage Projects, and add the project again.",
    ),
    CatalogEntry(
        "CCRRTT-1110E",
        "Repository collection project cannot be found.",
        "A project in the repository collection can no longer be found, usually because a project or type "
        "was deleted or renamed in the repository, or because user permissions there changed.",
        "Open the collection: remove the project if it was deleted, or pick its replacement under Manage "
        "Invalid Projects if it was moved. Then check that the related routing, filters and mappings are "
        "still valid.",
    ),
    CatalogEntry(
        "CCRRTT-1111E",
        "Repository collection contains duplicate projects.",
        "The kind of high-level container chosen under Manage Projects for this collection has changed.",
        "Before resolving, write down the artifact routing of every integration that uses the collection "
        "and review the selection under Manage Projects (nothing needs changing there). Resolving the "
        "issue removes that routing from the integrations, so you will have to set it up again by hand.",
    ),
    CatalogEntry(
        "CCRRTT-1112E",
        "Artifact is locked.",
        "Another user or process holds a lock on the artifact.",
        "Find the locked artifact in the specific message, make sure nothing else is working on it, and "
        "retry.",
    ),
    CatalogEntry(
        "CCRRTT-1113E",
        "Connection could not be established with a repository due to an insecure connection.",
        "Hub refused to connect to the repository because the connection is not secure.",
        "Fix the cause given in the specific message, or allow insecure connections in that repository's "
        "settings.",
    ),
    CatalogEntry(
        "CCRRTT-1114E",
        "The artifact union configuration is invalid.",
        "The artifact union is configured incorrectly.",
        "Open the artifact union's configuration and correct what the specific message points out.",
    ),
    CatalogEntry(
        "CCRRTT-1115I",
        "This message is to notify you that events processing for this repository may be delayed due to "
        "the repository's event rate limit.",
        "The repository's event rate limit is low enough that processing its events may fall behind.",
        "Either lengthen the change detection interval of the integrations that use this repository, or "
        "raise the event rate limit on the repository connection screen.",
    ),
    CatalogEntry(
        "CCRRTT-1116E",
        "Unable to create repository query.",
        "Hub could not create the repository query.",
        "Check that the query still exists under the same name in the repository and that the repository "
        "user is allowed to read it.",
    ),
    CatalogEntry(
        "CCRRTT-1401E",
        "Integration must specify at least one route.",
        "The integration has no routes, and it needs at least one.",
        "Open the integration's routing page and add a route.",
    ),
    CatalogEntry(
        "CCRRTT-1402E",
        "Integration must satisfy style constraints.",
        "The integration breaks the rules of its integration style, which should never happen to an "
        "integration built in the user interface. The detailed message lists the parts that are invalid.",
        "Open the integration and fix the configuration as the messages describe. If the integration was "
        "built in the web interface, consider contacting support.",
    ),
    CatalogEntry(
        "CCRRTT-1403E",
        "Integration must have all collections attached to the same model.",
        "The collections in an integration are attached to different models, but they must all share one.",
        "Decide which model the integration should use, then either remove the collections that use "
        "another model or map them to the chosen model.",
    ),
    CatalogEntry(
        "CCRRTT-1404E",
        "Collection must have a mapping to a model.",
        "A repository collection used in an integration is not mapped to any model.",
        "Open the collection and choose a model to map it to.",
    ),
    CatalogEntry(
        "CCRRTT-1405E",
        "Integration must have a source Collection.",
        "The integration has no source collection.",
        "Open the integration and add a collection to act as its source.",
    ),
    CatalogEntry(
        "CCRRTT-1406E",
        "Integration must have a target Collection.",
        "The integration has no target collection.",
        "Open the integration and add a collection to act as its target.",
    ),
    CatalogEntry(
        "CCRRTT-1408E",
        "Integration failed to lookup artifact.",
        "The integration could not find the artifact it was meant to change. Typical causes are a missing "
        "or invalid formatted ID on the source artifact, or no target collection holding an artifact with "
        "that formatted ID; the detailed message says which part failed.",
        "On the integration's field flow page, check how the key field is configured, then check the data "
        "on the source artifact and that a matching artifact exists in a target collection.",
    ),
    CatalogEntry(
        "CCRRTT-1409E",
        "Integration has invalid filter.",
        "The filter in this integration is no longer valid.",
        "Open the filter that is in error and fix each problem it shows.",
    ),
    CatalogEntry(
        "CCRRTT-1410E",
        "Integration must specify a key identifier.",
        "The integration lacks a key identifier for a pair of collections. A key identifier names the "
        "source model field that holds the target artifact's formatted ID, which Hub uses to find "
        "artifacts in the target collection.",
        "Open the integration, select the two collections without a key identifier, and set one on the "
        "field flow page.",
    ),
    CatalogEntry(
        "CCRRTT-1411E",
        "All specified routes of an integration must be configured.",
        "Some routes of the integration have not been configured yet.",
        "On the integration's routing page, finish configuring every route that needs it.",
    ),
    CatalogEntry(
        "CCRRTT-1412E",
        "Integration has a conditional route with invalid configuration.",
        "A conditional route of the integration is no longer configured validly.",
        "Open the route that is in error and fix each problem shown in its routing configuration.",
    ),
    CatalogEntry(
        "CCRRTT-1413E",
        "Collection has invalid repository query.",
        "The repository query the collection uses is no longer valid.",
        "Open the collection and pick another repository query.",
    ),
    CatalogEntry(
        "CCRRTT-1414I",
        "Hub is currently updating its operational data for this integration.",
        "Hub is refreshing its operational data for an integration.",
        "Wait until the update finishes.",
    ),
    CatalogEntry(
        "CCRRTT-1415E",
        "The routing configuration is invalid.",
        "The integration's artifact routing is invalid because a route endpoint has disappeared or cannot "
        "take routes, meaning a more specific endpoint has to be chosen.",
        "Check what each participating collection now has selected under Manage Projects, then redo the "
        "artifact routing of each integration. The issue clears once the routing is valid.",
    ),
    CatalogEntry(
        "CCRRTT-1416E",
        "The twinless artifact update configuration is invalid.",
        "The integration's twinless artifact update settings are invalid.",
        "Open the twinless update configuration of the integration and fix what the specific message "
        "reports.",
    ),
    CatalogEntry(
        "CCRRTT-10004E",
        "Enterprise Data Stream Integration must have exactly one target SQL Collection.",
        "An Enterprise Data Stream Integration needs one SQL collection, and only one, as its target.",
        "Choose a SQL collection as the target of the integration in error.",
    ),
    CatalogEntry(
        "CCRRTT-10005E",
        "Enterprise Data Stream Integration must have a source Collection.",
        "An Enterprise Data Stream Integration needs at least one collection that supplies artifacts.",
        "Choose a source collection for the integration in error.",
    ),
    CatalogEntry(
        "CCRRTT-10006E",
        "Enterprise Data Stream Integration target Collection must have appropriate mapping.",
        "The data collection of an Enterprise Data Stream Integration must be mapped to a model, namely "
        "the model you want to report on.",
        "Open the collection used by the integration and add a mapping to a model.",
    ),
    CatalogEntry(
        "CCRRTT-10007E",
        "Enterprise Data Stream Integration source Collection must provide the correct model.",
        "Every source collection of an Enterprise Data Stream Integration must use the same model as its "
        "target collection.",
        "Find the target collection's model from the integration, then open the source collection in "
        "error: map a repository collection to that model, or set a gateway collection's model to it.",
    ),
    CatalogEntry(
        "CCRRTT-10008E",
        "Enterprise Data Stream Integration target Collection must have exactly one project.",
        "The collection of an Enterprise Data Stream Integration must contain exactly one project.",
        "Open the collection and make sure it holds a single project, the one that matches the database "
        "table.",
    ),
    CatalogEntry(
        "CCRRTT-10009E",
        "Enterprise Data Stream Integration is missing required column.",
        "The database table behind an Enterprise Data Stream SQL collection lacks a required column.",
        "Add the missing column, which the error message names, to that table.",
    ),
    CatalogEntry(
        "CCRRTT-15002E",
        "Integration services cannot be started due to a problem with the license.",
        "Hub cannot start its integration services because of a license problem: there may be no license, "
        "an invalid or expired one, or features in use that the license does not cover.",
        "Get a valid license from support, then on the settings page choose Apply New License under "
        "License, paste the license text and save.",
    ),
    CatalogEntry(
        "CCRRTT-15005E",
        "Repository cannot be used due to a problem with the license.",
        "The license does not enable connections to repositories of this type, so the repository "
        "connection cannot be used.",
        "Get a valid license from support, then on the settings page choose Edit under License, paste the "
        "license text and save.",
    ),
    CatalogEntry(
        "CCRRTT-15012E",
        "Conditional field flow is not licensed.",
        "The integration uses conditional field flow, which the license does not enable, so it cannot be "
        "used.",
        "Take the conditional field flow out of the integration, or get and install a license from support "
        "that includes the feature.",
    ),
    CatalogEntry(
        "CCRRTT-15013E",
        "Artifact unions are not licensed.",
        "The collection has mappings that use a field from an artifact union, which the license does not "
        "enable, so the collection cannot be used.",
        "Remove those mappings from the collection, or get and install a license from support that "
        "includes artifact unions.",
    ),
    CatalogEntry(
        "CCRRTT-16001E",
        "Services cannot be started until Hub security has been initialized.",
        "Hub cannot start its integration services until secure password storage is set up and initialized.",
        "Under Settings → General, set the master password.",
    ),
    CatalogEntry(
        "CCRRTT-16002W",
        "The Hub services restart is taking longer than expected.",
        "Restarting the Hub services is taking more time than expected.",
        "Wait; the issue goes away by itself once the services are back. If it is still here after 30 "
        "minutes, contact support, and do not restart Hub without their guidance.",
    ),
    CatalogEntry(
        "CCRRTT-17001E",
        "Mapping cannot be applied since it is not valid within the current context.",
        "The mapping does not fit the artifacts in the current context, so it cannot be applied.",
        "Use the specific message to find the cause, then either change the mapping to suit the artifacts "
        "and model in use, or change the artifact schema (for example a field type) to suit the mapping.",
    ),
    CatalogEntry(
        "CCRRTT-17002E",
        "Collection model mapping is invalid.",
        "The collection's model mapping no longer agrees with the collection schema and the model schema, "
        "so it is invalid.",
        "Find the cause in the specific message, open the mapping, and bring the three back in line by "
        "adjusting the mapping, the collection's artifact schema (for example a field type) or the model "
        "(for example adding a field or changing its type).",
    ),
    CatalogEntry(
        "CCRRTT-17003E",
        "Artifact could not be created or updated because one or more values cannot be accepted.",
        "One or more values were not valid, so an artifact could not be created or updated; the specific "
        "message has the details.",
        "Find the fields and values at fault in the specific message and fix the data: update the source "
        "artifact, change the mapping, change the target system so it accepts the data, or send a new "
        "artifact through a gateway collection.",
    ),
    CatalogEntry(
        "CCRRTT-17004W",
        "Artifact cannot be processed since it is currently in use.",
        "The artifact is busy because Hub is processing changes to it at the same time; this is temporary.",
        "None; it clears up by itself.",
    ),
    CatalogEntry(
        "CCRRTT-17005E",
        "Field flow is invalid.",
        "The field flow is invalid because it does not agree with the model schema.",
        "Find the cause in the specific message, open the integration, select the collection pair and go "
        "to its field flow. Then adjust the field flow to the model, or the model to the field flow (for "
        "example by adding a field).",
    ),
    CatalogEntry(
        "CCRRTT-17006E",
        "Artifact was created but some values could not be set.",
        "An integration created the artifact but could not set some of its values, so some of its fields "
        "may be wrong.",
        "Find the cause in the specific message, then retry the activity, or check the new artifact and "
        "correct its values by hand.",
    ),
    CatalogEntry(
        "CCRRTT-17007E",
        "Conflict resolution strategy is invalid.",
        "The conflict resolution strategy is not configured validly.",
        "From the integration, open the conflict resolution strategy and choose one of its options.",
    ),
    CatalogEntry(
        "CCRRTT-17008E",
        "Artifact could not be processed as it did not meet any of the configured conditions on the "
        "Conditional Artifact Routing page.",
        "The artifact matched none of the conditions of the routes leaving its project (on the "
        "integration's page, under Routes), so it could not be processed.",
        "Extend the route conditions to cover the artifact's field value, add a route without a condition "
        "last (the default route), change the artifact so it meets a condition, or set \"Artifacts that "
        "meet no route condition\" to Ignore the artifact.",
    ),
    CatalogEntry(
        "CCRRTT-17009E",
        "Invalid state transition.",
        "An extension supplied invalid values while trying to move an artifact through a state transition.",
        "Identify the extension and, from the specific message, the fields and values at fault, then "
        "change the extension so it produces a valid transition.",
    ),
    CatalogEntry(
        "CCRRTT-17010E",
        "Repeated state transition.",
        "An extension tried to apply the same transition to an artifact more than once.",
        "Find the extension named in the error message and change it so it never repeats a transition of "
        "the same type on one artifact.",
    ),
    CatalogEntry(
        "CCRRTT-17011E",
        "Extension completed with an error.",
        "An extension finished with an error, either raised on purpose (for example because a business "
        "rule was not met) or caused by a fault in the extension's own code. The specific message has the "
        "details.",
        "Find the cause in the specific message, then either change the extension so the error no longer "
        "happens or change the source or target artifact so it meets the condition that failed.",
    ),
    CatalogEntry(
        "CCRRTT-17013E",
        "The state transition requires the selection of model fields.",
        "A collection has a state transition extension configured but no model fields selected for it.",
        "Open the collection under Collections, then \"Comments, persons, state transitions\": either tick "
        "the model fields the transition needs under State Transition, or choose no state transition "
        "extension to turn it off.",
    ),
    CatalogEntry(
        "CCRRTT-17014E",
        "Relationship values could not be resolved during synchronization.",
        "Some relationship links could not be resolved during a synchronization because linked artifacts "
        "were synchronized out of order. If A links to B and B has not been copied yet, the copy of A "
        "cannot link to B's copy until that copy exists; the link is added automatically once it does.",
        "Usually none: wait for it to resolve by itself. Alternatively, delete the link that cannot be "
        "resolved from the artifact being synchronized.",
    ),
    CatalogEntry(
        "CCRRTT-17015E",
        "Relationship values could not be resolved during synchronization.",
        "Some relationship links could not be resolved during a synchronization, typically because the "
        "linked-to artifact has more than one copy in the target repository, for example because several "
        "synchronization integrations copied it there.",
        "Remove the link, delete invalid or outdated pairs of the linked artifact under Activity → "
        "Artifact pairs, or delete integrations that copy it needlessly.",
    ),
    CatalogEntry(
        "CCRRTT-17016E",
        "An unexpected error occurred when creating the artifact.",
        "Creating the artifact failed in an unanticipated way, and it is unclear whether the artifact now "
        "exists.",
        "Contact support, and do not retry the event until they advise you to.",
    ),
    CatalogEntry(
        "CCRRTT-17017E",
        "The repository does not support artifact creation.",
        "The repository cannot create artifacts.",
        "In the integration, turn off artifact creation into the named collection and remove every route "
        "that flows into it.",
    ),
    CatalogEntry(
        "CCRRTT-17018E",
        "Model does not have all fields required by the state transition.",
        "A collection's state transition extension needs fields that the model does not have.",
        "Add the missing fields to the model, or open the collection's state transitions through Edit "
        "state transition and change the list of model fields it requires.",
    ),
    CatalogEntry(
        "CCRRTT-17019E",
        "Target collection partition could not be resolved during synchronization.",
        "A missing or invalid route prevented the work item from being synchronized.",
        "Make sure the integration has a route for the artifact's project (on the integration's page, "
        "under Routes), and that the target project still exists in its repository; then retry the "
        "activity under Activity → Artifact activities → Failed.",
    ),
    CatalogEntry(
        "CCRRTT-17020E",
        "Associated target container could not be resolved during synchronization.",
        "Hub could not find the target container, so the artifact could not be synchronized.",
        "None; this fixes itself once the containers have synchronized.",
    ),
    CatalogEntry(
        "CCRRTT-17021E",
        "An error occurred when performing state transitions.",
        "A state transition was attempted on an artifact and failed, which may have left the artifact in "
        "the wrong state.",
        "Fix the cause given in the specific message and check the target artifact's state, correcting "
        "values by hand if needed. Otherwise adjust or turn off the collection's state transitions under "
        "its \"Comments, persons, state transitions\" page.",
    ),
    CatalogEntry(
        "CCRRTT-17022E",
        "The associated container could not be found.",
        "No container could be found for the parent container of this artifact.",
        "If the parent container is set in a route, route to a container that exists. If an integration "
        "synchronizes the parent container, change it so an event is generated, then use Recreate Artifact.",
    ),
    CatalogEntry(
        "CCRRTT-17023E",
        "For the artifact pair import to succeed, the associated integration must be running.",
        "Artifact pairs can only be imported while the integration they belong to is running.",
        "Start the integration that the artifact pair file belongs to.",
    ),
    CatalogEntry(
        "CCRRTT-17024E",
        "An error occurred when processing the output of an extension.",
        "Hub failed while handling what an extension returned; the specific message has the details.",
        "Find the cause in the specific message, then either change the extension so the error no longer "
        "happens or change the source or target artifact so it meets the condition that failed.",
    ),
    CatalogEntry(
        "CCRRTT-17025E",
        "Field value configuration required.",
        "The type of a field in the integration has changed, so its field values have to be mapped again.",
        "Under Collections, open the linked collection's Field mapping, choose Edit on each line flagged "
        "with this code, map its values again and save. The problem clears when no line is flagged.",
    ),
    CatalogEntry(
        "CCRRTT-17026E",
        "Comment flow is invalid.",
        "The comment flow is invalid, which can happen when a repository changes its support for comment "
        "visibility.",
        "From the integration, open the comment flow and set it up the way you want.",
    ),
    CatalogEntry(
        "CCRRTT-17027E",
        "The conditional field flow has an invalid condition.",
        "A condition in the conditional field flow refers to a field or value that the model schema cannot "
        "resolve.",
        "From the integration, open the field flow and change the conditions so every field and value they "
        "use exists in the model concerned.",
    ),
    CatalogEntry(
        "CCRRTT-17028E",
        "Test step model mapping is invalid.",
        "The test step model mapping no longer agrees with the test step schema and the test step model "
        "schema, so it is invalid.",
        "Find the cause in the specific message, open the test step mapping, and adjust the mapping, the "
        "test step schema (for example a field type) or the test step model (for example adding a field or "
        "changing its type) until they agree.",
    ),
    CatalogEntry(
        "CCRRTT-17029E",
        "Time entry model mapping is invalid.",
        "The time entry model mapping no longer agrees with the time entry schema and the time entry model "
        "schema, so it is invalid.",
        "Find the cause in the specific message, open the time entry mapping, and adjust the mapping, the "
        "time entry schema (for example a field type) or the time entry model (for example adding a field "
        "or changing its type) until they agree.",
    ),
    CatalogEntry(
        "CCRRTT-17030W",
        "Configuration delta table is currently unavailable as it is being migrated.",
        "The configuration delta table is being migrated and cannot be used for now; this can happen "
        "shortly after an upgrade if someone views the configuration change list too early.",
        "None; the migration finishes as a background job.",
    ),
    CatalogEntry(
        "CCRRTT-17031E",
        "Failed to transform imported configuration change.",
        "An imported configuration change could not be converted for this instance because some elements "
        "it refers to are missing.",
        "Create the missing elements, then import the change again.",
    ),
    CatalogEntry(
        "CCRRTT-20000E",
        "No integration is listening to the Gateway Collection.",
        "Data was pushed to a gateway collection that no integration uses as a source, so the payload was "
        "lost.",
        "Use the gateway collection as a source in an integration, or stop the external system from "
        "pushing to it.",
    ),
    CatalogEntry(
        "CCRRTT-20004E",
        "Relationship fields of a Gateway Collection must be configured to specify the related repository.",
        "Each Relationship or Relationships field of a gateway collection must name the repository that "
        "holds the referenced artifacts.",
        "Open the gateway collection, go to Relationship Field Configuration and pick the related "
        "repository for each field.",
    ),
    CatalogEntry(
        "CCRRTT-20005E",
        "Gateway collection must have a model.",
        "The gateway collection has no model configured.",
        "Open the gateway collection, choose a model and save.",
    ),
    CatalogEntry(
        "CCRRTT-20006E",
        "Gateway Collection cannot be used with the configured payload transformation extension due to a "
        "restriction in the license.",
        "The gateway collection uses a payload transformation extension, which the current license does "
        "not allow.",
        "Delete the gateway collection, or remove the payload transformation extension from it.",
    ),
    CatalogEntry(
        "CCRRTT-20007E",
        "Gateway collection must use a token.",
        "The gateway collection has no token, and it needs one.",
        "Open the gateway collection, generate a token and save.",
    ),
    CatalogEntry(
        "CCRRTT-21001E",
        "An unexpected error occurred while sending an email.",
        "Sending an email failed.",
        "Check the email settings, then fix the cause given in the specific message.",
    ),
    CatalogEntry(
        "CCRRTT-21002E",
        "Failed to authenticate with the email server.",
        "The mail server turned the connection down because authentication failed.",
        "Check the email settings, in particular the server host name, port and credentials, then fix the "
        "cause given in the specific message.",
    ),
    CatalogEntry(
        "CCRRTT-22001E",
        "Artifact Association records with unknown Artifact Handles found and deleted during upgrade.",
        "A database upgrade found artifact associations pointing at records that do not exist; those "
        "records were logged and then deleted.",
        "Talk to support before cancelling this error or running the affected integration.",
    ),
    CatalogEntry(
        "CCRRTT-30000E",
        "An unexpected error occurred.",
        "Hub hit an error it did not anticipate; the specific message has the details.",
        "Fix the problem the specific message describes if you can; otherwise ask your administrator for "
        "help.",
    ),
    CatalogEntry(
        "CCRRTT-30001E",
        "Not found.",
        "The requested entity is gone from the server.",
        "Check the entity ID you supplied and try again with the correct one.",
    ),
    CatalogEntry(
        "CCRRTT-30002E",
        "The data provided was not valid.",
        "The data supplied was invalid; the specific message explains why.",
        "Fix the problem the specific message describes and try again.",
    ),
    CatalogEntry(
        "CCRRTT-30003E",
        "The connector kind was not found.",
        "No connector kind matches the one requested.",
        "Check how the connector kind is written and try again.",
    ),
    CatalogEntry(
        "CCRRTT-30004E",
        "The request entity was not valid JSON.",
        "The body of the request is not valid JSON.",
        "Send the payload as well-formed JSON and try again.",
    ),
    CatalogEntry(
        "CCRRTT-30005E",
        "Secure password storage must be initialized.",
        "Secure password storage has not been set up yet.",
        "Set up secure password storage on the settings page.",
    ),
    CatalogEntry(
        "CCRRTT-30006E",
        "Error communicating with {0} repository.",
        "Connecting to the repository failed; the specific message has the details.",
        "Fix the problem the specific message describes if you can; otherwise ask your administrator for "
        "help.",
    ),
    CatalogEntry(
        "CCRRTT-30007E",
        "Error processing request MIME attachment.",
        "A MIME attachment in the request was rejected, either because the request was malformed or "
        "because of an I/O failure. Lack of disk space or of write permission on Hub's temporary directory "
        "can cause this.",
        "Make sure Hub can write to its temporary directory and that the directory has enough free space, "
        "then try again.",
    ),
    CatalogEntry(
        "CCRRTT-30008E",
        "Hub is stopped, see the Activity View and error log for more details.",
        "Unrecoverable errors have stopped Hub; the error log has more details.",
        "Fix the problem described in the specific message, then restart Hub.",
    ),
    CatalogEntry(
        "CCRRTT-30009E",
        "The database is not available.",
        "The configuration database cannot be reached.",
        "Make sure the configuration database is online and reachable, and that Hub's database settings "
        "are right.",
    ),
    CatalogEntry(
        "CCRRTT-30010E",
        "Connection settings are not valid.",
        "The connection settings supplied are invalid; the specific message explains why.",
        "Fix the problem the specific message describes and try again.",
    ),
    CatalogEntry(
        "CCRRTT-30011E",
        "The database is locked for maintenance and cannot currently be used.",
        "Maintenance has locked the configuration database, so it is unavailable for now.",
        "Wait for the maintenance to finish.",
    ),
    CatalogEntry(
        "CCRRTT-30012E",
        "The database is in use by another instance of the application.",
        "Another instance of the application is already using the configuration database.",
        "If this is the instance that should run, shut down the other instances that use the same database "
        "and restart this one; otherwise shut this instance down.",
    ),
    CatalogEntry(
        "CCRRTT-30013E",
        "Temporary error communicating with {0} repository.",
        "Connecting to the repository failed for the moment; the specific message has the details.",
        "Try again, and ask your administrator for help if it keeps happening.",
    ),
    CatalogEntry(
        "CCRRTT-30014E",
        "Error communicating with repository. Insecure connections are not allowed.",
        "Hub refused to connect to the repository because the connection is not secure.",
        "Fix the cause given in the specific message, or allow insecure connections in that repository's "
        "settings.",
    ),
    CatalogEntry(
        "CCRRTT-30015E",
        "Deployment configuration error.",
        "The configuration for this deployment has missing pieces or is invalid.",
        "Contact customer support.",
    ),
    CatalogEntry(
        "CCRRTT-30016E",
        "Unauthorized user error.",
        "A license restriction means the current user is not authorized.",
        "Contact your Hub administrator.",
    ),
    CatalogEntry(
        "CCRRTT-30017E",
        "The license is expired.",
        "The current license has expired, so Hub cannot start its integration services.",
        "Get a valid license from support, then on the settings page choose Apply New License under "
        "License, paste the license text and save.",
    ),
    CatalogEntry(
        "CCRRTT-30018E",
        "No license has been configured.",
        "No license is configured, so Hub cannot start its integration services.",
        "Get a valid license from support, then on the settings page choose Apply New License under "
        "License, paste the license text and save.",
    ),
    CatalogEntry(
        "CCRRTT-30019E",
        "The application is currently starting up.",
        "The application is still starting and cannot be used yet.",
        "Wait until start-up has finished.",
    ),
    CatalogEntry(
        "CCRRTT-30020E",
        "An error occurred when reading the database connection settings.",
        "Hub cannot read the connection settings for its operational database.",
        "Check that the database connection settings file is well formed and that the user Hub runs as may "
        "read it.",
    ),
    CatalogEntry(
        "CCRRTT-30021E",
        "The history page is not available before the necessary data migrations are complete.",
        "The history page stays unavailable until the required data migrations have finished.",
        "Wait for the migrations to finish.",
    ),
    CatalogEntry(
        "CCRRTT-30022W",
        "Repository Connection disabled.",
        "The repository connection is disabled and stays that way until someone enables it again.",
        "Either enable the repository again (Repositories, open it, Enable), or keep it disabled and "
        "disregard this warning.",
    ),
    CatalogEntry(
        "CCRRTT-50001E",
        "Unable to propagate artifact changes since the target artifact has been removed.",
        "Changes to an artifact cannot be carried over to its counterpart in the other repository of a "
        "synchronization, because that counterpart has been removed.",
        "Use Recreate Artifact to have Hub recreate the deleted artifact and pair it with the one that "
        "still exists. Otherwise delete the surviving artifact, move it out of its collection, or apply an "
        "artifact filter for updates that it does not meet, so it is no longer synchronized.",
    ),
    CatalogEntry(
        "CCRRTT-50002E",
        "A conflict has occurred during synchronization.",
        "A field that flows both ways was changed on both sides to conflicting values. Because the "
        "conflict resolution strategy is Error Upon Conflict, synchronization stopped instead of "
        "overwriting either change.",
        "Change the conflict resolution strategy so one repository wins, edit the value on one of the "
        "artifacts so they no longer conflict, or make the field flow in one direction only.",
    ),
    CatalogEntry(
        "CCRRTT-50005E",
        "A conflict has occurred during synchronization.",
        "The containers of both synchronized artifacts were changed, so their containment conflicts.",
        "Move one or both artifacts back to their original container, or change the conflict resolution "
        "strategy so one repository wins.",
    ),
    CatalogEntry(
        "CCRRTT-50006E",
        "Unable to update artifact due to values for dependent single selects not found.",
        "A dependent single-select field did not change, but Hub could not find a new value for it.",
        "Find the field it depends on from the error message; then add a value with the given label in the "
        "repository, set that field back to its original value, or remove that field's mapping.",
    ),
    CatalogEntry(
        "CCRRTT-50007E",
        "Multiple matching containers were found.",
        "Container matching found more than one matching container.",
        "Turn off container matching in the container mirroring configuration, rename containers so only "
        "one matches, have matching take the first match, or change how containers are matched.",
    ),
    CatalogEntry(
        "CCRRTT-50008E",
        "This integration cannot be started because a required relationship cannot be resolved.",
        "The integration cannot start because Hub cannot resolve one of its required Relationship fields.",
        "Create an integration that synchronizes the artifacts the field refers to, or give the field a "
        "constant mapping.",
    ),
    CatalogEntry(
        "CCRRTT-50009E",
        "Time Tracking integration model must have a field of type Time Entries.",
        "The model of a Time Tracking integration lacks a field of type Time Entries.",
        "Add a Time Entries field to the model, or switch to a model that has one and make sure every "
        "collection in the integration uses it.",
    ),
    CatalogEntry(
        "CCRRTT-50010E",
        "Time Tracking integration Collection must have a field mapping to a field of type Time Entries in "
        "the Model.",
        "A collection in a Time Tracking integration has no field mapped to the model's Time Entries field.",
        "Open the collection's model mapping and map a field to the model's Time Entries field.",
    ),
    CatalogEntry(
        "CCRRTT-50011W",
        "Time Tracking integration target Collection does not support impersonation of the Worker field.",
        "The target collection cannot impersonate the worker on worklogs, so it is of limited use as a "
        "Time Tracking target: worklogs are recorded under the user of the target repository connection.",
        "None if that is acceptable; otherwise use a target collection that supports worklog impersonation.",
    ),
    CatalogEntry(
        "CCRRTT-50012E",
        "Time Tracking integration Collection does not support time entry filtering.",
        "Time entry filtering is set up for a collection pair whose source collection does not support it.",
        "Open the integration, select the collection pair, go to Time Entry Filtering and turn the filter "
        "off.",
    ),
    CatalogEntry(
        "CCRRTT-50013W",
        "Artifact cannot be created currently as other artifact creations are being processed.",
        "The artifact has to wait because Hub is creating other artifacts that might conflict with it, "
        "typically when it creates artifacts on both sides of an integration at once. The problem is "
        "temporary.",
        "None; it clears up by itself.",
    ),
    CatalogEntry(
        "CCRRTT-50014E",
        "The test step flow configuration is invalid.",
        "The test step flow is configured incorrectly.",
        "Open the test step flow configuration and fix what the specific message points out.",
    ),
    CatalogEntry(
        "CCRRTT-50015E",
        "The routing configuration for this container + work item integration is invalid.",
        "This container + work item integration has invalid artifact routing: one side has several "
        "container collections of the same type, yet artifacts flow away from that side.",
        "Redo the artifact routing of each integration so artifacts flow only toward the side with several "
        "container collections of the same type, never both ways. The issue clears once the routing is "
        "valid.",
    ),
    CatalogEntry(
        "CCRRTT-50016E",
        "Artifact could not be processed as it did not meet any of the configured conditions on the Shared "
        "Container Mirroring page.",
        "The artifact matched none of the conditions of the container mirroring, so it could not be "
        "processed. (Hub builds Work Item Synchronization; this code belongs to container mirroring.)",
        "Extend the conditions to cover the artifact's field value, or change the artifact so it meets "
        "one.",
    ),
    CatalogEntry(
        "CCRRTT-50017E",
        "The integration is missing required field mappings.",
        "In container + work item integrations that use Shared Container Mirroring conditions, the model "
        "field used in a condition must be mapped in the associated collections.",
        "Open the associated collections and map the model field used in the conditions in both directions.",
    ),
    CatalogEntry(
        "CCRRTT-50018E",
        "The artifact could not be processed as the artifact it depends on has not synchronized.",
        "The artifact depends on another artifact that has not been synchronized yet, so it could not be "
        "processed.",
        "Make sure the artifact named in the detailed message is part of the integration, and wait for it "
        "to synchronize.",
    ),
    CatalogEntry(
        "CCRRTT-50019E",
        "Container matching cannot be enabled when the parent field is mapped with an extension.",
        "Container matching is not allowed when the parent field is mapped through an extension.",
        "Take the extension off the parent field mapping in the related collections, or turn off container "
        "matching in the integration.",
    ),
    CatalogEntry(
        "CCRRTT-50020E",
        "Collections with multiple artifact types cannot be used in a Container + Work Item Synchronization.",
        "A container + work item synchronization cannot use a collection that holds more than one artifact "
        "type.",
        "Use another collection in the integration, or remove the artifact types the collection does not "
        "need.",
    ),
    CatalogEntry(
        "CCRRTT-60001E",
        "Error initializing password encryption.",
        "Storing passwords securely needs 256-bit AES encryption, which the Java runtime environment does "
        "not offer.",
        "Install the Java Cryptography Extension (JCE) Unlimited Strength Jurisdiction Policy Files, which "
        "oracle.com provides with installation notes, into the Java runtime. Otherwise the unencrypted "
        "password store level can be used.",
    ),
    CatalogEntry(
        "CCRRTT-61001E",
        "Connector is missing requirements.",
        "The connector's requirements are not satisfied.",
        "The connector's own message says what is missing: install it on the machine that runs Hub (see "
        "the connector's section of the documentation), then use Test connection on the repository's "
        "page under Repositories.",
    ),
    CatalogEntry(
        "CCRRTT-61101E",
        "Connection credentials were not accepted by the repository.",
        "The repository rejected the credentials during authentication.",
        "Check the credentials stored for the repository. If they are right, make sure that user may "
        "create and edit artifacts in the target repository.",
    ),
    CatalogEntry(
        "CCRRTT-61102E",
        "Connection HTTP proxy credentials were not accepted by the repository.",
        "The proxy server rejected authentication while Hub was contacting a repository.",
        "Check the proxy credentials stored for the repository; if they are right, ask your network "
        "administrator for help.",
    ),
    CatalogEntry(
        "CCRRTT-61103E",
        "Connection settings are invalid.",
        "The connection settings are invalid.",
        "Open the connection settings of the repository in error and correct them; contact support if that "
        "does not help.",
    ),
    CatalogEntry(
        "CCRRTT-61104E",
        "Hub is unable to communicate with this repository as it is experiencing high server load.",
        "The repository is under heavy load and Hub cannot reach it, usually because it received more API "
        "calls than it allows or is otherwise strained.",
        "It clears up by itself once the load drops. To cap how many Hub events per minute go to this "
        "repository, give it an event rate limit on the repository connection screen.",
    ),
    CatalogEntry(
        "CCRRTT-61105I",
        "This message is to notify you that Hub has exceeded the allowed rate limit of the target "
        "repository. Any events that did not get processed will automatically be retried and processed "
        "upon subsequent attempts.",
        "Hub went over the target repository's rate limit; events left unprocessed are retried "
        "automatically later.",
        "None.",
    ),
    CatalogEntry(
        "CCRRTT-61106E",
        "Repository Connection disabled.",
        "The repository connection is disabled and stays that way until someone enables it again.",
        "Either enable the repository again (Repositories, open it, Enable), or keep it disabled and "
        "disregard this warning.",
    ),
    CatalogEntry(
        "CCRRTT-63001E",
        "Integration services cannot be started since the current license has expired.",
        "The current license has expired, so Hub cannot start its integration services.",
        "Get a valid license from support, then on the settings page choose Apply New License under "
        "License, paste the license text and save.",
    ),
    CatalogEntry(
        "CCRRTT-64001E",
        "Integration cannot be used with the configured repositories due to a restriction in the license.",
        "The integration connects repository pairs that the current license does not allow, so it cannot "
        "run.",
        "Delete or disable the integration, or change it to use repository pairs the license permits.",
    ),
    CatalogEntry(
        "CCRRTT-65001E",
        "Extension cannot be used because of a restriction in the license.",
        "A value transformation extension is installed that the current license does not allow.",
        "Install a license that covers this kind of extension, or remove the extension under Settings > "
        "Extensions.",
    ),
    CatalogEntry(
        "CCRRTT-66001I",
        "Hub is currently updating its operational data with a collection's project replacements.",
        "Hub is applying a collection's project replacements to its operational data.",
        "Wait until the collection update has finished.",
    ),
    CatalogEntry(
        "CCRRTT-66002I",
        "Hub is currently updating its operational data with a collection's project replacements.",
        "Hub is applying a collection's project replacements to its operational data.",
        "Wait until the collection update has finished.",
    ),
    CatalogEntry(
        "CCRRTT-66003W",
        "Integration data migration is currently in progress.",
        "A background job is running.",
        "Wait for the background job to finish.",
    ),
    CatalogEntry(
        "CCRRTT-66003I",
        "Project replacement cannot be applied because the handle schema is missing fields from the "
        "builder schema.",
        "Hub cannot apply the project replacement: some fields of the builder schema are missing from the "
        "handle schema.",
        "Look for related upgrade background jobs; if there are any, wait for them to finish and then "
        "retry this job. If there are none, contact support.",
    ),
    CatalogEntry(
        "CCRRTT-66004W",
        "Background job cancelled.",
        "A background job was cancelled because the configuration changed or Hub was shut down.",
        "None; the job resumes by itself.",
    ),
    CatalogEntry(
        "CCRRTT-67000E",
        "Target repository must contain valid containers for this integration.",
        "No container was found in which the target artifact could be created.",
        "Find the target repository in the specific message and create a container there that can hold the "
        "target artifact and is a sibling of the referenced artifact's container.",
    ),
    CatalogEntry(
        "CCRRTT-67001E",
        "A field mapping must exist from a model String or Rich Text field to a target Relationship or "
        "Relationships field.",
        "The integration needs a mapping from a String or Rich Text model field to a Relationship or "
        "Relationships field in the target collection; it uses that mapping to decide where commit "
        "artifacts go.",
        "Map the model's Commit Message field to a Relationship or Relationships field in the target "
        "collection.",
    ),
)

CATALOG: dict[str, CatalogEntry] = build_catalog(ENTRIES)


def entry(code: str) -> CatalogEntry:
    """The catalog entry for code; KeyError if Hub has no such code."""
    try:
        return CATALOG[code]
    except KeyError:
        raise KeyError(f"unknown error code {code!r}: it is not in Hub's error catalog") from None


def is_known(code: str) -> bool:
    return code in CATALOG
