"""CloudFormation resource types moto lacks but template.yaml uses."""

from __future__ import annotations

import json
from typing import Any

# moto's own AWS::Lambda::Version model first: a later model of the same type replaces it.
import moto.awslambda.models  # noqa: F401
from moto.awslambda.models import lambda_backends
from moto.core.common_models import CloudFormationModel


class LocalFunctionUrl(CloudFormationModel):
    """AWS::Lambda::Url: every function URL is served by the local action server at ``base_url``."""

    base_url = "http://127.0.0.1:8787/"

    def __init__(self, target_function: str, url: str):
        self.target_function = target_function
        self.url = url

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalFunctionUrl:
        return cls(str(cloudformation_json["Properties"]["TargetFunctionArn"]), cls.base_url)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.url if attribute_name == "FunctionUrl" else self.target_function

    @property
    def physical_resource_id(self) -> str:
        return self.url


class LocalGeneratedSecret(CloudFormationModel):
    """AWS::SecretsManager::Secret (moto's CloudFormation lacks it): created in moto's Secrets Manager,
    with GenerateSecretString honoured for length and punctuation."""

    def __init__(self, arn: str):
        self.arn = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalGeneratedSecret:
        from moto.secretsmanager.models import secretsmanager_backends

        properties = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        generate = properties.get("GenerateSecretString")
        value = properties.get("SecretString")
        if generate:
            value = backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)),
                exclude_characters=generate.get("ExcludeCharacters", ""),
                exclude_numbers=False,
                exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
                exclude_uppercase=False,
                exclude_lowercase=False,
                include_space=False,
                require_each_included_type=True,
            )
            value = json.loads(value)["RandomPassword"] if isinstance(value, str) else value["RandomPassword"]
        secret = backend.create_secret(
            name=properties.get("Name", resource_name),
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=[],
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(secret)["ARN"])

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn


class LocalLambdaVersion(CloudFormationModel):
    """AWS::Lambda::Version (SAM's AutoPublishAlias). moto's own model publishes the version but
    answers Ref with no ARN; here Ref is the version's qualified ARN and ``Version`` its number, as
    in CloudFormation."""

    def __init__(self, arn: str, version: str):
        self.arn = arn
        self.version = version

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Version"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Version", "FunctionArn")

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalLambdaVersion:
        properties = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        name, description = str(properties["FunctionName"]), properties.get("Description") or ""
        published = backend.publish_version(name, description)
        if published is None:
            raise ValueError(f"no function {name} to publish a version of")
        return cls(published.function_arn, str(published.version))

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.version if attribute_name == "Version" else self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn


class LocalLambdaAlias(CloudFormationModel):
    """AWS::Lambda::Alias (SAM's AutoPublishAlias), which moto's CloudFormation lacks: created in
    moto's Lambda; Ref is the alias ARN."""

    def __init__(self, arn: str):
        self.arn = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "AliasArn"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> LocalLambdaAlias:
        properties = cloudformation_json["Properties"]
        alias = lambda_backends[account_id][region_name].create_alias(
            name=str(properties["Name"]),
            function_name=str(properties["FunctionName"]),
            function_version=str(properties["FunctionVersion"]),
            description=str(properties.get("Description", "")),
            routing_config=properties.get("RoutingConfig"),
        )
        return cls(alias.arn)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn
