//! Seed rules 13-15: images, secrets and tokens.

use crate::rules::Rule;

mod credential_in_config_data;
mod credential_in_file;
mod external_secret_refresh;
mod hardcoded_credential;
mod image_not_pinned;
mod image_signature_not_enforced;
mod image_tag_mutable;
mod kubeconfig_credentials;
mod legacy_token_secret;
mod namespace_outside_image_verification;
mod projected_token_long_lived;
mod secret_in_manifest;

pub static RULES: &[&Rule] = &[
    &image_tag_mutable::RULE,
    &image_not_pinned::RULE,
    &image_signature_not_enforced::RULE,
    &namespace_outside_image_verification::RULE,
    &secret_in_manifest::RULE,
    &hardcoded_credential::RULE,
    &credential_in_config_data::RULE,
    &credential_in_file::RULE,
    &kubeconfig_credentials::RULE,
    &legacy_token_secret::RULE,
    &external_secret_refresh::RULE,
    &projected_token_long_lived::RULE,
];
