"""Build tiny T5-, GPT-2- and BERT-style models with a tokenizer trained on the fly."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Literal

# Text written for this project (no dataset text): enough vocabulary for sensible tokenization.
DEFAULT_CORPUS = [
    "#Person1#: Hi, I ordered a lamp last week and it arrived broken.",
    "#Person2#: I am sorry to hear that. Can you give me the order number?",
    "#Person1#: It is 4471. The base is cracked and the switch does not work.",
    "#Person2#: I will send a replacement today and a label to return the broken one.",
    "Summarize the following conversation. Summary: A customer reports a broken lamp and gets a replacement.",
    "Dialogue: What was going on? The customer asked about a refund for a late delivery.",
    "Question: When does the store open? Answer: The store opens at nine in the morning.",
    "Translate English to German: Good morning, how are you? Guten Morgen, wie geht es dir?",
    "Classify the sentiment of the review: The product works well and I love it. positive",
    "The delivery was late and the box was damaged. negative",
    "Instruction: Write a short reply thanking the customer. Response: Thank you for your patience.",
]

Family = Literal["t5", "gpt2", "bert"]
SPECIAL = {"pad": "<pad>", "eos": "</s>", "unk": "<unk>", "bos": "<s>", "mask": "<mask>", "cls": "[CLS]", "sep": "[SEP]"}


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512, *, family: Family = "t5"):
    """A byte-level BPE tokenizer trained on `texts`, wrapped as a PreTrainedTokenizerFast.

    Byte-level means every string is encodable (no <unk> surprises on unseen characters)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = [SPECIAL["pad"], SPECIAL["eos"], SPECIAL["unk"], SPECIAL["bos"], SPECIAL["mask"]]
    if family == "bert":
        specials += [SPECIAL["cls"], SPECIAL["sep"]]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    eos_id = tok.token_to_id(SPECIAL["eos"])
    if family == "t5":
        # T5 appends </s> to every encoded input, as the real tokenizer does.
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {SPECIAL['eos']}", pair=f"$A {SPECIAL['eos']} $B {SPECIAL['eos']}",
            special_tokens=[(SPECIAL["eos"], eos_id)],
        )
    elif family == "bert":
        cls_id, sep_id = tok.token_to_id(SPECIAL["cls"]), tok.token_to_id(SPECIAL["sep"])
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
    kwargs = dict(pad_token=SPECIAL["pad"], eos_token=SPECIAL["eos"], unk_token=SPECIAL["unk"])
    if family == "gpt2":
        kwargs.update(bos_token=SPECIAL["bos"], padding_side="left")
    if family == "bert":
        kwargs.update(cls_token=SPECIAL["cls"], sep_token=SPECIAL["sep"], mask_token=SPECIAL["mask"])
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


def _config(family: Family, tokenizer, size: dict, context: int):
    from transformers import BertConfig, GPT2Config, T5Config

    vocab = len(tokenizer)
    if family == "t5":
        return T5Config(
            vocab_size=vocab, d_model=size.get("d_model", 32), d_kv=size.get("d_kv", 8),
            d_ff=size.get("d_ff", 64), num_layers=size.get("num_layers", 2),
            num_decoder_layers=size.get("num_decoder_layers", size.get("num_layers", 2)),
            num_heads=size.get("num_heads", 4), feed_forward_proj=size.get("feed_forward_proj", "gated-gelu"),
            tie_word_embeddings=size.get("tie_word_embeddings", False), dropout_rate=0.0,
            pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id, n_positions=context,
        )
    if family == "gpt2":
        return GPT2Config(
            vocab_size=vocab, n_embd=size.get("d_model", 32), n_layer=size.get("num_layers", 2),
            n_head=size.get("num_heads", 4), n_positions=context, resid_pdrop=0.0, embd_pdrop=0.0,
            attn_pdrop=0.0, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    return BertConfig(
        vocab_size=vocab, hidden_size=size.get("d_model", 32), num_hidden_layers=size.get("num_layers", 2),
        num_attention_heads=size.get("num_heads", 4), intermediate_size=size.get("d_ff", 64),
        max_position_embeddings=context, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        pad_token_id=tokenizer.pad_token_id,
    )


def build_tiny_model(
    out_dir: str | Path,
    family: Family = "t5",
    *,
    texts: Iterable[str] | None = None,
    vocab_size: int = 512,
    context: int = 512,
    seed: int = 0,
    size: dict | None = None,
    tokenizer=None,
) -> Path:
    """Write a tiny model + tokenizer folder loadable with the Auto classes; returns the folder.

    `size` overrides shape keys (d_model, d_kv, d_ff, num_layers, num_heads, ...), so a benchmark
    can build the exact shape of e.g. flan-t5-small with random weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

    out = Path(out_dir)
    tokenizer = tokenizer or train_tokenizer(texts or DEFAULT_CORPUS, vocab_size, family=family)
    config = _config(family, tokenizer, size or {}, context)
    if family == "t5":
        config.max_length = None  # no hidden generation defaults: our GenerationConfig decides
    torch.manual_seed(seed)
    auto = {"t5": AutoModelForSeq2SeqLM, "gpt2": AutoModelForCausalLM, "bert": AutoModelForSequenceClassification}[family]
    model = auto.from_config(config)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
