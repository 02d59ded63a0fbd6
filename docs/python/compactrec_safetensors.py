"""Score raw rows with a CompactRec model exported by

    compactrec export --checkpoint RUN --format safetensors --output model.safetensors

using only numpy and the safetensors package (no CompactRec, no PyTorch):

    python3 compactrec_safetensors.py model.safetensors rows.json

rows.json holds {"rows": [{"I1": 5, "C1": "68fd1e64", ...}, ...]}, the body `compactrec serve`
takes; one click probability per row is printed, as `compactrec predict` would give it (to
float32 rounding). A PyTorch user loads the same tensors with safetensors.torch.load_file: the
names are those of a state dict (nn.Embedding / nn.Linear / nn.BatchNorm1d layouts).
"""
import json
import sys

import numpy as np
from safetensors.numpy import load_file


def load(path):
    """The tensors and the JSON config written beside them."""
    config_path = path[: -len(".safetensors")] + ".json" if path.endswith(".safetensors") else path + ".json"
    with open(config_path) as f:
        return load_file(path), json.load(f)


def encode(rows, config):
    """Raw rows -> dense inputs, categorical ids and multi-valued id lists, as `prepare` does."""
    pre = config["preprocessing"]
    ids = {f: {v: i + 2 for i, v in enumerate(vs)} for f, vs in config["vocabularies"].items()}

    def category(field, value):
        if value is None or value == "":
            return pre["missing_id"]
        if isinstance(value, (int, float)):
            value = str(int(value))
        return ids[field].get(value, pre["oov_id"])  # unseen values share the OOV row

    def number(value):
        if value is None:
            return np.float32(pre["dense_missing_value"])
        x = np.float32(value)
        return np.log1p(max(x, np.float32(0))) if pre["dense_transform"] == "log1p" else x

    dense = np.array([[number(r.get(f)) for f in config["dense_fields"]] for r in rows], dtype=np.float32).reshape(len(rows), -1)
    categorical = np.array([[category(f, r.get(f)) for f in config["categorical_fields"]] for r in rows], dtype=np.int64).reshape(len(rows), -1)
    multi = [[[category(f, v) for v in (r.get(f) or []) if v != ""] for r in rows] for f in config["multi_valued_fields"]]
    return dense, categorical, multi


def mlp(x, layers, t):
    for layer in layers:
        if layer["type"] == "linear":
            x = x @ t[layer["weight"]].T + (t[layer["bias"]] if layer.get("bias") else 0)
        elif layer["type"] == "batchnorm":
            x = (x - t[layer["running_mean"]]) / np.sqrt(t[layer["running_var"]] + np.float32(layer["eps"]))
            if layer.get("weight"):
                x = x * t[layer["weight"]] + t[layer["bias"]]
        elif layer["type"] == "relu":
            x = np.maximum(x, 0)
    return x


def logits(t, config, dense, categorical, multi):
    fields = config["categorical_fields"] + config["multi_valued_fields"]
    vectors = []
    for k, field in enumerate(fields):
        table = t[config["embeddings"][field]["table"]] if config["embeddings"] else None
        if table is None:
            break
        if k < categorical.shape[1]:
            v = table[categorical[:, k]]
        else:  # mean of the row's values, zero when it has none
            lists = multi[k - categorical.shape[1]]
            v = np.stack([table[ids].mean(0) if ids else np.zeros(table.shape[1], np.float32) for ids in lists])
        projection = config["embeddings"][field].get("projection")
        vectors.append(v @ t[projection].T if projection else v)
    z = np.zeros(len(dense), np.float32)
    first = config.get("first_order")
    if first:
        for k, field in enumerate(fields):
            ids = categorical[:, k] if k < categorical.shape[1] else None
            column = t[first["tables"][field]][:, 0]
            z += column[ids] if ids is not None else [column[i].mean() if i else 0 for i in multi[k - categorical.shape[1]]]
        if first.get("dense_weight"):
            z += dense @ t[first["dense_weight"]][0]
        z += t[first["bias"]][0]
    if config["interaction"] == "fm":
        s = np.stack(vectors, 1)
        z += 0.5 * (s.sum(1) ** 2 - (s**2).sum(1)).sum(1)
    if "mlp" in config["mlps"]:
        z += mlp(np.concatenate(vectors + [dense], 1), config["mlps"]["mlp"], t)[:, 0]
    if config["interaction"] == "dot":
        # No bottom MLP when the data has no dense features: the fields' dots alone.
        head = [mlp(dense, config["mlps"]["bottom_mlp"], t)] if "bottom_mlp" in config["mlps"] else []
        vs = head + vectors
        pairs = [(vs[i] * vs[j]).sum(1) for i in range(len(vs)) for j in range(i)]
        z = mlp(np.concatenate(head + [np.stack(pairs, 1)], 1), config["mlps"]["top_mlp"], t)[:, 0]
    return z


def predict(path, rows):
    t, config = load(path)
    return 1 / (1 + np.exp(-logits(t, config, *encode(rows, config)).astype(np.float64)))


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        for p in predict(sys.argv[1], json.load(f)["rows"]):
            print(repr(float(p)))
