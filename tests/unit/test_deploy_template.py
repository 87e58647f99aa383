"""deploy/: the SAM template, its Lambda package and image, checked against the code.

The template is read with cfn-lint's own decoder (it knows `!Ref`, `!GetAtt`,
`!If`), linted with cfn-lint as a library, and compared with the code it
deploys: table keys with `create-tables`' specs, IAM actions with the calls
`dynamodb_client.py` makes, alarm metrics with `metrics.py`, the environment
with `config.py`, the dependency list with `pyproject.toml` and
`constraints.txt`.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]
from cfnlint.decode import decode  # type: ignore[import-untyped]
from packaging.requirements import Requirement

from naver_sms import config as config_module
from naver_sms.database import dynamodb_client
from naver_sms.database.dynamodb_client import (
    BOOKINGS_TABLE,
    DELIVERY_INDEX,
    SENT_TABLE,
    SESSION_TABLE,
    TableSpec,
)
from naver_sms.metrics import DEFAULT_NAMESPACE, METRIC_NAMES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEMPLATE_PATH = DEPLOY / "template.yaml"
HANDLER = "naver_sms.entrypoints.lambda_handler.handler"
# The secret variables NAVER_SMS_SECRET_ID's JSON holds: those config.py reads from it.
SECRET_VARIABLES = set(config_module.SECRET_VARIABLES)
IMAGE_PARAMETERS = {
    "PackageType": "Image",
    "ImageUri": "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/naver-sms@sha256:" + "0" * 64,
    "TtlAttribute": "expires_at",
    "AlarmEmail": "ops@example.com",
    "ReservedConcurrency": "none",
    "ScheduleState": "DISABLED",
}
EXISTING_TABLES_PARAMETERS = {"ExistingTables": "true", "TtlAttribute": "expires_at"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, errors = decode(str(TEMPLATE_PATH))
    assert not errors, [str(error) for error in errors]
    assert decoded is not None
    return dict(decoded)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def _default(template: dict[str, Any], parameter: str) -> Any:
    return template["Parameters"][parameter].get("Default")


def _statements(template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for role in _resources(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]
        assert "ManagedPolicyArns" not in role["Properties"], "no managed (broad) policies"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statement: dict[str, Any], image: bool | None = None) -> list[str]:
    """The statement's actions in one variant (image or Zip), or in either when None."""
    action = statement["Action"]
    if isinstance(action, dict):
        assert set(action) == {"Fn::If"}, action
        condition, if_image, if_zip = action["Fn::If"]
        assert condition == "UseImage"  # only the package type may change a grant
        if image is None:
            return sorted({*_listed(if_image), *_listed(if_zip)})
        action = if_image if image else if_zip
    return list(_listed(action))


def _get_att(resource: Any) -> str | None:
    """The logical id of `!GetAtt X.Arn` (either spelling), else None."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        parts = target.split(".") if isinstance(target, str) else list(target)
        assert parts[1] == "Arn"
        return str(parts[0])
    return None


# table logical id -> the parameter naming it
TABLE_PARAMETERS = {
    "BookingsTable": "BookingsTableName",
    "SessionTable": "SessionTableName",
    "SentTable": "SentTableName",
}
_INDEX_OF_CREATED = re.compile(r"\$\{(?P<table>\w+)\.Arn\}/index/(?P<index>[\w.-]+)")


def _table(resource: Any) -> str:
    """The table (or `Table/index/name`) a policy resource designates: the stack's own,
    or the existing one by name.

    `!If [CreateTables, !GetAtt T.Arn, !Sub "arn:...:table/${TName}"]`, or for
    an index `!If [CreateTables, !Sub "${T.Arn}/index/I", !Sub
    "arn:...:table/${TName}/index/I"]`: both branches must name the same table
    (and index), the second exactly (no wildcard).
    """
    assert isinstance(resource, dict)
    assert set(resource) == {"Fn::If"}, resource
    condition, created, existing = resource["Fn::If"]
    assert condition == "CreateTables"
    table, index = _get_att(created), ""
    if table is None:
        match = _INDEX_OF_CREATED.fullmatch(created.get("Fn::Sub", ""))
        assert match is not None, resource
        table, index = match["table"], f"/index/{match['index']}"
    assert table in TABLE_PARAMETERS, resource
    assert existing == {
        "Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
        f"${{{TABLE_PARAMETERS[table]}}}{index}"
    }
    return table + index


# ------------------------------------------------------------------ cfn-lint
# About a second per lint: left to `make test`.


@pytest.mark.slow
@pytest.mark.parametrize(
    "parameters",
    [None, IMAGE_PARAMETERS, EXISTING_TABLES_PARAMETERS],
    ids=["defaults (Zip)", "image variant, TTL, email, no reservation", "existing tables"],
)
def test_cfn_lint_passes_including_its_informational_checks(
    parameters: dict[str, str] | None,
) -> None:
    args = ManualArgs(include_checks=["I"], regions=["ap-northeast-2", "us-east-1"])
    if parameters is not None:
        args["template_parameters"] = [parameters]
    matches = lint_file(TEMPLATE_PATH, args)
    assert [str(match) for match in matches] == []


@pytest.mark.slow
def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    # Guards the test above against passing because nothing was linted.
    broken = tmp_path / "template.yaml"
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    broken.write_text(text.replace("Threshold: 1\n", "Threshold: one\n"), encoding="utf-8")
    assert any("one" in str(match) for match in lint_file(broken, ManualArgs()))


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize(
    ("logical_id", "spec", "parameter"),
    [
        ("BookingsTable", BOOKINGS_TABLE, "BookingsTableName"),
        ("SessionTable", SESSION_TABLE, "SessionTableName"),
        ("SentTable", SENT_TABLE, "SentTableName"),
    ],
)
def test_the_tables_are_the_ones_create_tables_makes(
    template: dict[str, Any], logical_id: str, spec: TableSpec, parameter: str
) -> None:
    table = template["Resources"][logical_id]
    assert table["Condition"] == "CreateTables"
    assert _default(template, "ExistingTables") == "false"
    properties = table["Properties"]
    expected = spec.create_table_request()
    assert properties["TableName"] == {"Ref": parameter}
    assert _default(template, parameter) == expected["TableName"] == spec.default_name
    for key in ("KeySchema", "AttributeDefinitions", "BillingMode"):
        assert properties[key] == expected[key], key
    assert properties.get("GlobalSecondaryIndexes") == expected.get("GlobalSecondaryIndexes")
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # The bookings table remembers what was sent; losing it re-sends everything.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_the_bookings_table_has_the_sparse_delivery_index_and_nothing_else_does(
    template: dict[str, Any],
) -> None:
    tables = _resources(template, "AWS::DynamoDB::Table")
    indexed = {
        name: [index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]]
        for name, table in tables.items()
        if "GlobalSecondaryIndexes" in table["Properties"]
    }
    assert indexed == {"BookingsTable": [DELIVERY_INDEX.name]}
    (index,) = tables["BookingsTable"]["Properties"]["GlobalSecondaryIndexes"]
    assert [key["AttributeName"] for key in index["KeySchema"]] == [
        "delivery_queue",
        "delivery_due",
    ]
    # Every attribute: the cycle reads the records it checks from the index alone.
    assert index["Projection"] == {"ProjectionType": "ALL"}
    # On-demand tables take no throughput per index (CloudFormation refuses it).
    assert "ProvisionedThroughput" not in index


def test_ttl_is_a_parameter_and_off_by_default(template: dict[str, Any]) -> None:
    assert _default(template, "TtlAttribute") == ""
    assert template["Conditions"]["HasTtl"] == {
        "Fn::And": [
            {"Condition": "CreateTables"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "TtlAttribute"}, ""]}]},
        ]
    }
    ttl = template["Resources"]["BookingsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {
        "Fn::If": [
            "HasTtl",
            {"AttributeName": {"Ref": "TtlAttribute"}, "Enabled": True},
            {"Ref": "AWS::NoValue"},
        ]
    }


# ------------------------------------------------------------------ IAM


def _calls_by_class(source: str) -> dict[str, set[str]]:
    """DynamoDB operations per class: `self.client.<op>(...)` and `get_paginator("<op>")`."""
    calls: dict[str, set[str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        found = calls.setdefault(node.name, set())
        for call in ast.walk(node):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            owner = call.func.value
            if not (isinstance(owner, ast.Attribute) and owner.attr == "client"):
                continue
            if call.func.attr == "get_paginator":
                (argument,) = call.args
                assert isinstance(argument, ast.Constant)
                found.add(str(argument.value))
            else:
                found.add(call.func.attr)
    return calls


def _module_level_client_calls(source: str) -> set[str]:
    """`client.<op>(...)` in module-level functions (create_tables and its helpers)."""
    found = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "client"
            ):
                found.add(call.func.attr)
    return found


def _action(operation: str) -> str:
    return "dynamodb:" + "".join(part.title() for part in operation.split("_"))


def test_the_code_makes_exactly_the_dynamodb_calls_the_policy_lists() -> None:
    # If this fails, the adapter gained or lost a call: update the template's
    # FunctionRole (and this list) together.
    source = Path(dynamodb_client.__file__).read_text(encoding="utf-8")
    calls = _calls_by_class(source)
    assert calls["BookingRepository"] == {
        "get_item",
        "put_item",
        "update_item",
        "batch_get_item",
        "batch_write_item",
        "transact_write_items",
        "scan",
        "query",
    }
    assert calls["SessionRepository"] == {"get_item", "put_item", "delete_item"}
    assert calls["_Repository"] == set()
    # create_table / describe_table belong to `naver-sms create-tables`, run by
    # an operator: the function never needs them.
    assert _module_level_client_calls(source) == {"create_table", "describe_table", "update_table"}


def _dynamodb_grants(template: dict[str, Any], image: bool) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for statement in _statements(template):
        actions = _actions(statement, image)
        if not any(str(action).startswith("dynamodb:") for action in actions):
            continue
        assert all(str(action).startswith("dynamodb:") for action in actions)
        for resource in _listed(statement["Resource"]):
            granted.setdefault(_table(resource), set()).update(actions)
    return granted


@pytest.mark.parametrize("image", [False, True], ids=["zip", "image"])
def test_each_variant_gets_only_actions_its_repositories_have(
    template: dict[str, Any], image: bool
) -> None:
    # Exactly which of them each variant's cycles call is measured by
    # tests/e2e/test_deploy_permissions.py; here: never more than the code has.
    source = Path(dynamodb_client.__file__).read_text(encoding="utf-8")
    calls = _calls_by_class(source)
    granted = _dynamodb_grants(template, image)
    assert set(granted) == {
        "BookingsTable",
        "BookingsTable/index/delivery",
        "SentTable",
        "SessionTable",
    }
    for target in ("BookingsTable", "BookingsTable/index/delivery", "SentTable"):
        # A transaction's items are granted as the PutItem/UpdateItem they are.
        assert granted[target] <= {_action(op) for op in calls["BookingRepository"]}, target
    assert granted["SessionTable"] <= {_action(op) for op in calls["SessionRepository"]}


def test_no_variant_scans_and_only_the_image_variant_writes_the_session(
    template: dict[str, Any],
) -> None:
    zip_grants, image_grants = (_dynamodb_grants(template, image) for image in (False, True))
    for granted in (zip_grants, image_grants):
        assert "dynamodb:Scan" not in granted["BookingsTable"]  # only `naver-sms bookings` lists
        # The queue is read with a Query on its index; the table itself is never queried.
        assert "dynamodb:Query" not in granted["BookingsTable"]
        assert granted["BookingsTable/index/delivery"] == {"dynamodb:Query"}
        # The cycle writes the history's entries; only `naver-sms messages` reads them.
        assert granted["SentTable"] == {"dynamodb:BatchWriteItem"}
    assert zip_grants["SessionTable"] == {"dynamodb:GetItem"}
    assert image_grants["SessionTable"] == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    }


def test_no_statement_has_a_wildcard_action_or_resource(template: dict[str, Any]) -> None:
    for statement in _statements(template):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        for action in _actions(statement):
            assert isinstance(action, str)
            assert "*" not in action, statement
        for resource in _listed(statement["Resource"]):
            # Every resource is one of this stack's own, by reference, or an
            # existing table by its exact name (checked by _table): never a
            # literal string, so never "*" or an ARN pattern.
            assert isinstance(resource, dict), statement
            assert set(resource) <= {"Ref", "Fn::GetAtt", "Fn::If"}, statement
            if "Fn::If" in resource:
                _table(resource)


def test_the_secret_is_read_only_and_only_that_secret(template: dict[str, Any]) -> None:
    secret_statements = [
        s for s in _statements(template) if any("secretsmanager" in a for a in _actions(s))
    ]
    assert len(secret_statements) == 1
    (statement,) = secret_statements
    assert _listed(statement["Action"]) == ["secretsmanager:GetSecretValue"]
    assert _listed(statement["Resource"]) == [{"Ref": "Secret"}]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["NAVER_SMS_SECRET_ID"] == {"Ref": "Secret"}


def test_logs_go_only_to_the_stacks_log_group(template: dict[str, Any]) -> None:
    log_statements = [
        s for s in _statements(template) if any(a.startswith("logs:") for a in _actions(s))
    ]
    (statement,) = log_statements
    assert set(statement["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert _get_att(statement["Resource"]) == "LogGroup"
    log_group = template["Resources"]["LogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert _default(template, "LogRetentionDays") == 30
    assert template["Globals"]["Function"]["LoggingConfig"]["LogGroup"] == {"Ref": "LogGroup"}


def test_the_code_builds_boto3_clients_only_for_services_the_policy_covers() -> None:
    services = set()
    for path in (ROOT / "src" / "naver_sms").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("client", "resource")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                services.add(node.args[0].value)
    assert services <= {"dynamodb", "secretsmanager"}


# ------------------------------------------------------------------ the secret


def test_the_secret_is_created_empty_so_no_stack_update_can_overwrite_it(
    template: dict[str, Any],
) -> None:
    secret = template["Resources"]["Secret"]["Properties"]
    # Either property, set or edited, makes CloudFormation write a new version
    # over the values an operator put in.
    assert "SecretString" not in secret
    assert "GenerateSecretString" not in secret
    assert template["Resources"]["Secret"]["UpdateReplacePolicy"] == "Delete"


def test_the_docs_fill_the_secret_with_exactly_the_variables_config_py_reads() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    match = re.search(r"cat > \S+ <<'JSON'\n(.*?)\nJSON\n", docs, re.DOTALL)
    assert match is not None
    structure = json.loads(match.group(1))
    assert set(structure) == SECRET_VARIABLES
    assert set(config_module._ENV) >= SECRET_VARIABLES  # empty values count as unset there


# ------------------------------------------------------------------ the function


def test_the_zip_function_runs_the_handler_with_modest_memory(template: dict[str, Any]) -> None:
    function = template["Resources"]["CycleFunction"]
    properties = function["Properties"]
    assert function["Condition"] == "UseZip"
    assert properties["Handler"] == HANDLER
    module, _, name = HANDLER.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    assert properties["Runtime"] in ("python3.11", "python3.12")
    assert properties["MemorySize"] <= 1024
    assert properties["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    # `sam build` copies CodeUri: it must be the directory holding the package.
    code = (TEMPLATE_PATH.parent / properties["CodeUri"]).resolve()
    assert (code / "naver_sms" / "entrypoints" / "lambda_handler.py").is_file()
    assert (code / "naver_sms" / "example.yaml").is_file()


def test_every_invocation_is_single_unretried_and_well_within_its_timeout(
    template: dict[str, Any],
) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Architectures"] == ["x86_64"]
    assert globals_["Timeout"] >= 300
    assert globals_["EventInvokeConfig"]["MaximumRetryAttempts"] == 0
    assert globals_["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveConcurrency", 1, {"Ref": "AWS::NoValue"}]
    }
    assert _default(template, "ReservedConcurrency") == "1"
    assert template["Conditions"]["ReserveConcurrency"] == {
        "Fn::Equals": [{"Ref": "ReservedConcurrency"}, "1"]
    }


def test_both_variants_run_on_the_schedule_parameter(template: dict[str, Any]) -> None:
    assert _default(template, "Schedule") == "rate(5 minutes)"
    assert _default(template, "ScheduleState") == "ENABLED"
    for logical_id in ("CycleFunction", "CycleImageFunction"):
        (event,) = template["Resources"][logical_id]["Properties"]["Events"].values()
        assert event["Type"] == "Schedule"
        assert event["Properties"]["Schedule"] == {"Ref": "Schedule"}
        assert event["Properties"]["State"] == {"Ref": "ScheduleState"}
        assert "Input" not in event["Properties"]  # the real scheduled event, never a dry run


def test_the_environment_is_what_config_py_reads(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["NAVER_SMS_STORE"] == "dynamodb"
    assert variables["NAVER_SMS_BOOKINGS_TABLE"] == {"Ref": "BookingsTableName"}
    assert variables["NAVER_SMS_SESSION_TABLE"] == {"Ref": "SessionTableName"}
    assert variables["NAVER_SMS_SENT_TABLE"] == {"Ref": "SentTableName"}
    assert variables["NAVER_SMS_CONFIG"] == {"Ref": "ConfigPath"}
    assert str(variables["NAVER_SMS_OUTBOX"]).startswith("/tmp/")  # noqa: S108 - Lambda's only writable dir
    for name in variables:
        assert name in config_module._ENV or name.startswith("POWERTOOLS_"), name
    # secrets come from the secret, never from the template's environment
    assert not SECRET_VARIABLES & set(variables)


def test_the_config_file_reaches_the_same_path_in_both_variants(template: dict[str, Any]) -> None:
    config_path = _default(template, "ConfigPath")
    assert config_path == "/opt/naver-sms.yaml"
    layer = template["Resources"]["ConfigLayer"]
    assert layer["Condition"] == "UseZip"
    assert (DEPLOY / layer["Properties"]["ContentUri"]).is_dir()  # unpacked under /opt
    assert {"Ref": "ConfigLayer"} in template["Resources"]["CycleFunction"]["Properties"]["Layers"]
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f"COPY deploy/config/naver-sms.yaml {config_path}" in dockerfile


def test_the_image_variant_is_chosen_by_the_package_type_parameter(
    template: dict[str, Any],
) -> None:
    assert template["Parameters"]["PackageType"]["AllowedValues"] == ["Zip", "Image"]
    assert _default(template, "PackageType") == "Zip"
    assert template["Conditions"]["UseZip"] == {"Fn::Equals": [{"Ref": "PackageType"}, "Zip"]}
    assert template["Conditions"]["UseImage"] == {"Fn::Equals": [{"Ref": "PackageType"}, "Image"]}
    image = template["Resources"]["CycleImageFunction"]
    assert image["Condition"] == "UseImage"
    assert image["Properties"]["PackageType"] == "Image"
    assert image["Properties"]["ImageUri"] == {"Ref": "ImageUri"}
    assert image["Properties"]["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    # Without Dockerfile metadata `sam build` skips it: a Zip build needs no Docker.
    assert "Dockerfile" not in image.get("Metadata", {})
    functions = _resources(template, "AWS::Serverless::Function")
    assert set(functions) == {"CycleFunction", "CycleImageFunction"}


def test_the_dockerfile_is_a_pinned_lambda_image_with_chromium_and_no_dev_tools() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"^ARG CHROME_VERSION=(\d+\.\d+\.\d+\.\d+)$", dockerfile, re.MULTILINE)
    assert version is not None  # one pinned version for Chrome and its driver
    assert "chrome-for-testing-public/${CHROME_VERSION}/linux64" in dockerfile
    assert "latest" not in dockerfile.lower()
    assert f'CMD ["{HANDLER}"]' in dockerfile
    assert "COPY deploy/requirements.txt" in dockerfile
    instructions = "\n".join(
        line for line in dockerfile.splitlines() if line and not line.lstrip().startswith("#")
    )
    for tool in (
        "pytest",
        "ruff",
        "mypy",
        "moto",
        "hypothesis",
        "cfn-lint",
        "[dev]",
        "pip install -e",
    ):
        assert tool not in instructions, tool
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*") :][:4] == [
        "*",
        "!src/naver_sms",
        "!deploy/requirements.txt",
        "!deploy/config/naver-sms.yaml",
    ]


def _instructions(dockerfile: str) -> str:
    """The Dockerfile without comments, continuation lines joined."""
    lines = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).replace("\\\n", " ")


def test_every_download_of_the_image_is_pinned_by_its_content_by_default() -> None:
    dockerfile = _instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    digest = "[0-9a-f]{64}"
    # The base image by digest: a tag can be moved to other bytes.
    assert re.search(
        rf"^ARG PYTHON_BASE=public\.ecr\.aws/lambda/python:3\.12@sha256:{digest}$",
        dockerfile,
        re.MULTILINE,
    )
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["${PYTHON_BASE}"] * 2
    # Both zips by SHA-256, defaults set, checked with sha256sum -c before unzipping.
    for name in ("CHROME_SHA256", "CHROMEDRIVER_SHA256"):
        assert re.search(rf"^ARG {name}={digest}$", dockerfile, re.MULTILINE), name
    download = re.search(r"^RUN set -eu; .*chrome-for-testing-public.*$", dockerfile, re.MULTILINE)
    assert download is not None
    step = download.group(0)
    assert '"$CHROME_SHA256" chrome.zip "$CHROMEDRIVER_SHA256" chromedriver.zip' in step
    assert step.index("sha256sum -c SHA256SUMS") < step.index("unzip")
    # Python packages: wheels only, each checked against the hashes in the file.
    (pip,) = re.findall(r"^RUN pip install .*$", dockerfile, re.MULTILINE)
    assert "--require-hashes" in pip
    assert "--only-binary=:all:" in pip
    assert "-r /tmp/requirements.txt" in pip


def test_every_lambda_requirement_carries_the_hashes_of_its_files() -> None:
    entries = re.split(
        r"\n(?=\S)", (DEPLOY / "requirements.txt").read_text(encoding="utf-8").strip()
    )
    requirements = [entry for entry in entries if not entry.startswith("#")]
    assert len(requirements) == len(_pins(DEPLOY / "requirements.txt"))
    for entry in requirements:
        name = entry.split()[0]
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[^=\s]+", name), name
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        assert hashes, f"{name} has no --hash"
        assert len(set(hashes)) == len(hashes)


# ------------------------------------------------------------------ metrics and alarms


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in _resources(template, "AWS::CloudWatch::Alarm").items()
    }


def test_every_custom_alarm_reads_a_metric_the_code_writes(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == DEFAULT_NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}
    custom = [a for a in _alarms(template).values() if a["Namespace"] != "AWS/Lambda"]
    assert custom
    for alarm in custom:
        assert alarm["Namespace"] == DEFAULT_NAMESPACE
        assert alarm["MetricName"] in METRIC_NAMES
        # the service dimension alone: the per-kind lines carry `kind` too
        assert alarm["Dimensions"] == [{"Name": "service", "Value": {"Ref": "AWS::StackName"}}]


def test_the_five_alarms_notify_the_topic(template: dict[str, Any]) -> None:
    alarms = {a["MetricName"]: a for a in _alarms(template).values()}
    assert set(alarms) == {
        "Errors",
        "LoginChallenges",
        "SendFailures",
        "MessagesUndelivered",
        "CyclesSucceeded",
    }
    errors = alarms["Errors"]
    assert errors["Namespace"] == "AWS/Lambda"
    assert errors["Dimensions"] == [
        {
            "Name": "FunctionName",
            "Value": {
                "Fn::If": ["UseImage", {"Ref": "CycleImageFunction"}, {"Ref": "CycleFunction"}]
            },
        }
    ]
    for name in ("Errors", "LoginChallenges", "SendFailures", "MessagesUndelivered"):
        assert alarms[name]["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarms[name]["Threshold"] == 0
        assert alarms[name]["TreatMissingData"] == "notBreaching"
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["ActionsEnabled"] == {"Fn::If": ["ScheduleEnabled", True, False]}
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert _default(template, "AlarmEmail") == ""


def test_the_heartbeat_fires_after_30_minutes_without_a_successful_cycle(
    template: dict[str, Any],
) -> None:
    (heartbeat,) = [a for a in _alarms(template).values() if a["MetricName"] == "CyclesSucceeded"]
    assert heartbeat["Statistic"] == "Sum"
    assert heartbeat["ComparisonOperator"] == "LessThanThreshold"
    assert heartbeat["Threshold"] == 1
    assert heartbeat["TreatMissingData"] == "breaching"  # no cycle at all is the worst case
    assert heartbeat["Period"] * heartbeat["EvaluationPeriods"] == 30 * 60
    assert heartbeat["DatapointsToAlarm"] == heartbeat["EvaluationPeriods"]


# ------------------------------------------------------------------ the package's dependencies


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# The owner's page's own packages: no Lambda function serves the page (it runs
# beside `serve` on a shop's machine), so neither variant installs them.
WEB_ONLY = frozenset({"starlette", "uvicorn", "python-multipart", "itsdangerous"})


def _runtime_closure() -> dict[str, str]:
    """name -> installed version of every runtime dependency of naver-sms the Lambda
    needs (the page's own packages left out), extras followed."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()

    def walk(name: str, extras: frozenset[str]) -> None:
        if (_key(name), extras) in seen or _key(name) in WEB_ONLY:
            return
        seen.add((_key(name), extras))
        dist = distribution(name)
        found[_key(name)] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if (
                marker is None
                or marker.evaluate({"extra": ""})
                or any(marker.evaluate({"extra": extra}) for extra in extras)
            ):
                walk(requirement.name, frozenset(requirement.extras))

    walk("naver-sms", frozenset())
    found.pop("naver-sms")
    return found


def _pins(path: Path) -> dict[str, str]:
    """name -> version; a requirement line may go on with `\\` and `--hash=` lines."""
    pins = {}
    for text in path.read_text(encoding="utf-8").splitlines():
        line = text.split("#", 1)[0].strip()
        if line and not line.startswith("--"):
            name, _, version = line.split()[0].partition("==")
            pins[_key(name)] = version
    return pins


def test_the_lambda_requirements_are_the_runtime_closure_pinned_as_in_constraints() -> None:
    closure = _runtime_closure()
    constraints = _pins(ROOT / "constraints.txt")
    requirements = _pins(DEPLOY / "requirements.txt")
    expected = "\n".join(
        f"{name}=={constraints.get(name, version)}" for name, version in sorted(closure.items())
    )
    assert requirements == {name: constraints.get(name, v) for name, v in closure.items()}, (
        "deploy/requirements.txt drifted; its pins should read:\n" + expected
    )
    assert all(constraints.get(name) == version for name, version in requirements.items())
    for tool in ("pytest", "ruff", "mypy", "moto", "cfn-lint", "hypothesis"):
        assert tool not in requirements
