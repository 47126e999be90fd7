"""Writes the cross-encoder test fixtures under Tests/EncoderTests/Fixtures/cross-encoders/: a
tiny BertForSequenceClassification (40-token vocabulary, hidden 24, 2 layers, 3 heads, 1 label,
seeded) saved three ways, and the scores sentence-transformers gives for 8 pairs.

    vocab.txt      the tiny vocabulary (40 tokens, one a line)
    st6/           CrossEncoder.save() of sentence-transformers 6.2 (modules.json,
                   sentence_bert_config.json, config_sentence_transformers.json with
                   activation Sigmoid, max length 16 in tokenizer_config.json)
    st4/           the sentence-transformers 4.x/5.x layout: Hugging Face files only, with
                   "sentence_transformers": {"activation_fn": "...Identity", "version": "4.1.0"}
                   inside config.json; config and tokenizer files in transformers 4.x's form
                   (torch_dtype, vocab.txt, special_tokens_map.json)
    hf/            plain Hugging Face folder (save_pretrained of model and tokenizer, transformers
                   5: tokenizer.json and tokenizer_config.json, no vocab.txt); ST's default
                   activation for num_labels 1 is sigmoid
    expected.json  the pairs; per pair the token ids and token type ids (longest-first
                   truncation at 16), the raw logit of BertForSequenceClassification (eval mode,
                   eager attention, one pair at a time), and per folder what
                   CrossEncoder(folder).predict(pairs) returns

All three folders hold the same weights and a tokenizer with model_max_length 16. Floats are
float32 values written as the shortest decimal that reads back to the same double.

    Benchmarks/.venv/bin/python Benchmarks/make_cross_encoder_fixtures.py [--out DIR]
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from safetensors import safe_open
from sentence_transformers import CrossEncoder, __version__ as st_version
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer, __version__ as hf_version

VOCAB = ("[PAD] [UNK] [CLS] [SEP] [MASK] the cat sat on mat dog ran a big red ##s ##ed , . ! fast slow "
         "house tree blue green under over and or not is was ##ing run walk small day night sun").split()
MAX_LENGTH = 16

# (query, passage). Mixed case (lower-cased by the tokenizer), word pieces (cats, walked),
# punctuation, unknown words ("zebra", "at"; "running" is one [UNK]: "run" matches but "##ning"
# does not), and pairs over 16 tokens: passage only truncated, both truncated (unequal lengths,
# and equal lengths with an odd number of tokens to drop), query only truncated.
PAIRS = [
    ["the cat sat on the mat", "a big red cat sat on a small mat."],
    ["Dog ran fast", "the dog was running, not walking!"],
    ["blue house", "a green tree and a blue house under the sun"],
    ["sun", "the sun is big and red and the day is not night, the cat is small and the dog is fast."],
    ["the big red dog ran over the green mat and the small cat",
     "the cats walked under the tree or sat on the blue house at night"],
    ["is the day slow or fast and the night small", "the day is slow and the night is fast!"],
    ["the small blue dogs and the big red cats ran over the green trees at night and day", "mat"],
    ["zebra walked", "the zebra walked and ran"],
]


def build_model():
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=24, num_hidden_layers=2, num_attention_heads=3,
                        intermediate_size=40, max_position_embeddings=32, type_vocab_size=2, hidden_act="gelu",
                        num_labels=1, pad_token_id=0)
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    # Perturb every parameter (seeded, in name order) so that no term is negligible: BERT's
    # initialisation (std 0.02, LayerNorm 1/0, zero biases) would leave every score near 0.5. The
    # classifier's bias is then set so that the logits straddle 0 (sigmoid scores 0.2 to 0.8).
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=g)
            if name == "classifier.weight":
                p.copy_(1.0 * noise)
            elif "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif "embeddings" in name:
                p.copy_(0.5 * noise)
            else:
                p.copy_(0.3 * noise)
        model.classifier.bias.fill_(-5.5)
    return model.eval()


def build_tokenizer(vocab_path):
    with open(vocab_path, encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    tokenizer = BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=MAX_LENGTH)
    assert tokenizer.convert_tokens_to_ids("sun") == 39 and len(tokenizer) == len(VOCAB)
    return tokenizer


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def compact_json(obj, indent=""):
    """Indented JSON with each list of numbers or strings on one line."""
    inner = indent + " "
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {compact_json(v, inner)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}" if items else "{}"
    if isinstance(obj, list) and any(isinstance(x, (dict, list)) for x in obj):
        return "[\n" + ",\n".join(inner + compact_json(x, inner) for x in obj) + "\n" + indent + "]"
    return json.dumps(obj)


def floats(t):
    return [float(x) for x in np.asarray(t, dtype=np.float32).reshape(-1)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "EncoderTests",
                                                 "Fixtures", "cross-encoders"))
    a = p.parse_args()
    torch.set_num_threads(1)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    for sub in ("st6", "st4", "hf"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    vocab_path = os.path.join(out, "vocab.txt")
    with open(vocab_path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in VOCAB))

    model = build_model()
    tokenizer = build_tokenizer(vocab_path)

    # hf/: plain Hugging Face folder.
    hf = os.path.join(out, "hf")
    model.save_pretrained(hf)
    tokenizer.save_pretrained(hf)

    # st4/: what sentence-transformers 4.x/5.x wrote (CrossEncoder.save on transformers 4.5x):
    # model.save_pretrained with the activation in config.json ("sentence_transformers":
    # {"activation_fn", "version"}), tokenizer.save_pretrained, nothing else. transformers 4.x
    # wrote "torch_dtype" (not "dtype"), left defaults out, and saved vocab.txt and
    # special_tokens_map.json beside tokenizer.json; written here in that form.
    st4 = os.path.join(out, "st4")
    model.save_pretrained(st4)
    tokenizer.save_pretrained(st4)
    with open(os.path.join(st4, "config.json"), encoding="utf-8") as f:
        saved = json.load(f)
    keys = ["architectures", "attention_probs_dropout_prob", "classifier_dropout", "hidden_act", "hidden_dropout_prob",
            "hidden_size", "id2label", "initializer_range", "intermediate_size", "label2id", "layer_norm_eps",
            "max_position_embeddings", "model_type", "num_attention_heads", "num_hidden_layers", "pad_token_id",
            "type_vocab_size", "vocab_size"]
    config = {k: saved[k] for k in keys}
    config.update({"position_embedding_type": "absolute", "torch_dtype": "float32", "transformers_version": "4.51.3",
                   "use_cache": True,
                   "sentence_transformers": {"activation_fn": "torch.nn.modules.linear.Identity", "version": "4.1.0"}})
    write_json(os.path.join(st4, "config.json"), config)
    shutil.copy(vocab_path, os.path.join(st4, "vocab.txt"))
    specials = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]", "unk_token": "[UNK]"}
    write_json(os.path.join(st4, "special_tokens_map.json"), specials)
    write_json(os.path.join(st4, "tokenizer_config.json"), {
        "added_tokens_decoder": {str(i): {"content": VOCAB[i], "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True} for i in range(5)},
        "clean_up_tokenization_spaces": False, "do_basic_tokenize": True, "do_lower_case": True,
        "extra_special_tokens": {}, "model_max_length": MAX_LENGTH, "never_split": None, "strip_accents": None,
        "tokenize_chinese_chars": True, "tokenizer_class": "BertTokenizer", **specials})

    # st6/: the same model wrapped in a sentence-transformers 6.2 CrossEncoder and saved by it.
    st6 = os.path.join(out, "st6")
    ce = CrossEncoder(hf, device="cpu", max_length=MAX_LENGTH, activation_fn=torch.nn.Sigmoid(),
                      local_files_only=True)
    ce.save(st6)

    # Token ids from the Hugging Face tokenizer, logits from the saved model (eager attention),
    # one pair at a time.
    model = BertForSequenceClassification.from_pretrained(hf, attn_implementation="eager").eval()
    expected_pairs = []
    for q, passage in PAIRS:
        enc = tokenizer(q, passage, truncation="longest_first", max_length=MAX_LENGTH)
        full = tokenizer(q, passage)
        with torch.no_grad():
            logit = model(input_ids=torch.tensor([enc["input_ids"]]),
                          token_type_ids=torch.tensor([enc["token_type_ids"]]),
                          attention_mask=torch.tensor([enc["attention_mask"]])).logits
        expected_pairs.append({
            "query": q, "passage": passage,
            "tokens": tokenizer.convert_ids_to_tokens(enc["input_ids"]),
            "input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
            "untruncated_length": len(full["input_ids"]),
            "logit": floats(logit)[0],
        })
    # The same logits in one padded batch (what a batched implementation sees).
    batch = tokenizer([q for q, _ in PAIRS], [p for _, p in PAIRS], truncation="longest_first",
                      max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    with torch.no_grad():
        batched = floats(model(**batch).logits)

    scores, activations = {}, {}
    for sub in ("st6", "st4", "hf"):
        loaded = CrossEncoder(os.path.join(out, sub), device="cpu", local_files_only=True)
        assert loaded.max_seq_length == MAX_LENGTH, (sub, loaded.max_seq_length)
        scores[sub] = floats(loaded.predict(PAIRS, batch_size=32, show_progress_bar=False))
        activations[sub] = type(loaded.activation_fn).__module__ + "." + type(loaded.activation_fn).__name__
    logits = np.array([e["logit"] for e in expected_pairs], dtype=np.float64)
    sigmoid = 1 / (1 + np.exp(-logits))
    check = {
        "max_abs_st6_minus_sigmoid_logit": float(np.abs(np.array(scores["st6"]) - sigmoid).max()),
        "max_abs_hf_minus_sigmoid_logit": float(np.abs(np.array(scores["hf"]) - sigmoid).max()),
        "max_abs_st4_minus_logit": float(np.abs(np.array(scores["st4"]) - logits).max()),
        "max_abs_batched_minus_single_logit": float(np.abs(np.array(batched) - logits).max()),
    }
    assert activations == {"st6": "torch.nn.modules.activation.Sigmoid", "st4": "torch.nn.modules.linear.Identity",
                           "hf": "torch.nn.modules.activation.Sigmoid"}, activations
    assert max(check.values()) < 1e-5, check
    spread = float(np.std(scores["st6"]))
    assert spread > 0.05, f"scores too alike ({scores['st6']})"

    with safe_open(os.path.join(st6, "model.safetensors"), "pt") as f:
        tensors = {k: list(f.get_slice(k).get_shape()) for k in sorted(f.keys())}
    expected = {
        "description": "Tiny BertForSequenceClassification saved three ways (st6: sentence-transformers 6.2 "
                       "CrossEncoder.save; st4: sentence-transformers 4.x/5.x layout, activation Identity in "
                       "config.json; hf: plain Hugging Face). scores: CrossEncoder(folder).predict(pairs) with "
                       "sentence-transformers " + st_version + ". logit: BertForSequenceClassification in eval "
                       "mode on the pair's input_ids alone. Written by Benchmarks/make_cross_encoder_fixtures.py.",
        "versions": {"sentence_transformers": st_version, "transformers": hf_version, "torch": torch.__version__},
        "max_length": MAX_LENGTH,
        "truncation": "longest_first",
        "notes": [
            "max length 16 is tokenizer_config.json's model_max_length in all three folders; ST 6.2 writes no "
            "max_seq_length into sentence_bert_config.json (it would read one if present).",
            "longest_first as the Rust tokenizer does it: when both texts are equally long it keeps the extra "
            "token in the passage (pair 6: 10 + 10 tokens -> 6 + 7); Python's slow tokenizer keeps it in the query.",
            "'running' is one [UNK] (WordPiece finds 'run' but no '##ning'); 'zebra' and 'at' are [UNK].",
            "logit: one pair at a time, eager attention; logits_batched: all 8 in one padded batch; scores: "
            "CrossEncoder.predict (length-sorted padded batches, sdpa). They agree within 1e-6.",
        ],
        "activations": activations,
        "pairs": expected_pairs,
        "logits": [e["logit"] for e in expected_pairs],
        "logits_batched": batched,
        "scores": scores,
        "checks": check,
        "tensors": tensors,
    }
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        f.write(compact_json(expected) + "\n")
    print(json.dumps({"out": out, "scores": scores, "checks": check}, indent=1))


if __name__ == "__main__":
    main()
