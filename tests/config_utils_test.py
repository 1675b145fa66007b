# Copyright 2026 The dws_jax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Config arguments that carry any value: commas in brackets and quotes."""

import re

import pytest

import dws_jax as dws
from dws_jax import augment
from dws_jax import config_utils


def _parse(arg):
  return config_utils.parse_arg(arg, aug="none", views=1, runlocal=False)


@pytest.mark.parametrize("arg, aug", [
    ("aug=random_choice(translate,rotate),views=2",
     "random_choice(translate,rotate)"),
    ("views=2,aug=dropout(p=0.1,rescale=False)|siren_negation@0.5",
     "dropout(p=0.1,rescale=False)|siren_negation@0.5"),
    ("aug='random_choice(translate, rotate), scale',views=2",
     "random_choice(translate, rotate), scale"),
    ('aug="translate,rotate",views=2', "translate,rotate"),
])
def test_values_with_commas_pass_whole(arg, aug):
  parsed = _parse(arg)
  assert parsed.aug == aug
  assert parsed.views == 2
  assert parsed.runlocal is False


def test_parsed_augmentation_strings_build():
  spec = dws.WeightSpaceSpec.siren((2, 8, 8, 1))
  for arg in ("aug=random_choice(translate,rotate)",
              "aug=dropout(p=0.1,rescale=False)|siren_negation@0.5",
              "aug='random_choice(translate, rotate, scale)|quantile(q_max=0.1)'"):
    # Builds: every name and keyword survived the split.
    augment.build(_parse(arg).aug, spec)


def test_plain_arguments_unchanged():
  parsed = _parse("views=3,runlocal")
  assert (parsed.aug, parsed.views, parsed.runlocal) == ("none", 3, True)
  assert _parse("mixup").aug == "mixup"  # bare first value
  assert config_utils.split_items("a=1,,b=2,") == ["a=1", "b=2"]


@pytest.mark.parametrize("arg, message", [
    ("aug=random_choice(translate,views=2", "missing ')'"),
    ("aug=translate),views=2", "unbalanced ')'"),
    ("aug='translate,views=2", "unclosed ' quote"),
    ("aug=[a,b),views=2", "unbalanced ')'"),
])
def test_unbalanced_brackets_and_quotes_are_named(arg, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    _parse(arg)


def test_unknown_key_and_bad_type_still_refused():
  with pytest.raises(ValueError, match="unknown config argument 'viewz'"):
    _parse("viewz=2")
  with pytest.raises(ValueError, match="is not a int"):
    _parse("views=random_choice(1,2)")


def test_load_sibling_reads_the_file_next_to_the_config(tmp_path):
  (tmp_path / "_shared.py").write_text("VALUE = 41 + 1\n")
  config = tmp_path / "table.py"
  config.write_text("")
  assert config_utils.load_sibling(str(config), "_shared").VALUE == 42
  with pytest.raises(FileNotFoundError, match="_missing.py does not exist"):
    config_utils.load_sibling(str(config), "_missing")


def test_config_diff_counts_missing_added_options_as_defaults():
  saved = {"seed": 0, "optim": {"lr": 0.1}}  # written before prng_impl existed
  same = {"seed": 0, "optim": {"lr": 0.1}, "prng_impl": "auto",
          "init_mode": "auto"}
  assert config_utils.config_diff(saved, same) == []
  assert config_utils.config_diff(same, saved) == []
  other = {**same, "prng_impl": "rbg", "optim": {"lr": 0.2}}
  assert config_utils.config_diff(saved, other) == ["optim.lr", "prng_impl"]
  assert config_utils.config_diff(saved, {"seed": 0}) == ["optim.lr"]
