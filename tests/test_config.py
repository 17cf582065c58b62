import pytest

from stages.core import config
from stages.core.errors import UserError


def test_overrides_are_typed_and_dashes_become_underscores():
    parsed = config.parse_overrides(["--run", "a", "--epochs", "5", "--lr=0.01", "--source-form", "gray", "--overwrite"])
    assert parsed == {"run": "a", "epochs": 5, "lr": 0.01, "source_form": "gray", "overwrite": True}


@pytest.mark.parametrize("argv,expected", [
    (["--run", "a", "--nonsense", "1"], "unknown setting --nonsense"),
    (["--run", "a", "--epochs", "ten"], "expects a int"),
    (["--run", "a", "--amp", "maybe"], "true or false"),
    (["--run", "a", "--epochs"], "needs a value"),
    (["stray"], "unexpected argument"),
])
def test_bad_overrides(argv, expected):
    with pytest.raises(UserError, match=expected):
        config.parse_overrides(argv)


def test_preset_then_cpu_scale_then_command_line():
    kaggle = config.resolve(["--run", "a", "--preset", "simple", "--scale", "kaggle"])
    cpu = config.resolve(["--run", "a", "--preset", "simple", "--scale", "cpu"])
    override = config.resolve(["--run", "a", "--preset", "simple", "--scale", "cpu", "--epochs", "3"])
    assert kaggle.epochs == 200 and kaggle.source_form == "canny" and kaggle.lambda_max == 0.1
    assert cpu.epochs < kaggle.epochs
    assert override.epochs == 3


def test_saved_config_is_the_base_when_no_preset_is_named():
    saved = config.resolve(["--run", "a", "--epochs", "7"]).to_dict()
    assert config.resolve(["--run", "a"], saved).epochs == 7
    assert config.resolve(["--run", "a", "--epochs", "9"], saved).epochs == 9


@pytest.mark.parametrize("argv,expected", [
    (["--run", "a", "--preset", "nope"], "unknown preset"),
    (["--run", "a", "--source-form", "rgb"], "must be one of"),
    (["--run", "../x"], "plain name"),
    (["--epochs", "1"], "--run NAME is required"),
    (["--run", "a", "--epochs", "0"], "at least 1"),
])
def test_invalid_configs(argv, expected):
    with pytest.raises(UserError, match=expected):
        config.resolve(argv)


@pytest.mark.parametrize("name", sorted(p.stem for p in config.PRESET_DIR.glob("*.toml")))
def test_every_preset_loads_at_both_scales(name):
    for scale in ("kaggle", "cpu"):
        cfg = config.resolve(["--run", "a", "--preset", name, "--scale", scale])
        assert cfg.preset == name


def test_per_invocation_switches_are_not_inherited_from_the_saved_config():
    saved = config.resolve(["--run", "a", "--overwrite", "--resume", "false"]).to_dict()
    again = config.resolve(["--run", "a"], saved)
    assert again.overwrite is False and again.resume is True
