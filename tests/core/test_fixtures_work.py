"""The shared fixtures build real, loadable things."""

from lifecycle.data import load_jsonl
from lifecycle.project import Project


def test_make_project_validates(make_project, tiny_t5):
    root = make_project("summarization", model=tiny_t5)
    project = Project(root)
    assert project.manifest.scope.task.value == "summarization"
    assert project.prompt_config().target_field == "summary"
    assert project.eval_config().metrics[0].name == "rouge1"
    assert len(load_jsonl(project.path("data/sample.jsonl"), required=["dialogue", "summary"])) == 8


def test_tiny_models_load(tiny_t5, tiny_gpt2):
    from lifecycle.loading import load_model

    t5 = load_model(str(tiny_t5))
    gpt = load_model(str(tiny_gpt2))
    assert t5.encoder_decoder and not gpt.encoder_decoder
    assert gpt.tokenizer.padding_side == "left"
