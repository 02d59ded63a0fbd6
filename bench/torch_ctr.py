#!/usr/bin/env python3
"""PyTorch reference of CompactRec's CTR models (LR, FM, DeepFM, DLRM) on a prepared dataset.

Reads a directory written by `compactrec prepare` (docs/FORMATS.md, "Prepared dataset
directory") and trains on exactly its train / validation / test rows, with CompactRec's
defaults, so that AUC, logloss and throughput can be compared with `compactrec train` and
`compactrec bench train`. Run by hand from the repository root (needs `pip install torch numpy`;
scikit-learn is used for the AUC when installed, else an exact numpy AUC with ties):

    python3 bench/torch_ctr.py DATASET --model deepfm --epochs 3
    python3 bench/torch_ctr.py DATASET --model lr,fm,deepfm --lr 1e-2 --batch 1024
    python3 bench/torch_ctr.py DATASET --throughput --model deepfm,dlrm --threads 2

The models, as CompactRec builds them (Sources/CompactRec/Models):
- Embeddings: one table of width d (--dim, 16) per embedded field, initialised N(0, 0.01^2).
  The tables are stored as one concatenated table with per-field row offsets, which is the
  same model and the same optimizer (Adam and lazy Adam are element-wise) at a fraction of the
  kernel launches; --per-field-tables keeps literal separate tables.
- First-order term (LR, FM, DeepFM): a width-1 table per field initialised to 0 (sparse, on the
  embedding optimizer), plus a Linear(dense -> 1) with bias.
- LR: the first-order term. FM: + sum_{f<g} <e_f, e_g>. DeepFM: FM + MLP(400-400-400, ReLU,
  then 1) on [embeddings concatenated, dense values]. DLRM: bottom MLP dense -> 512 -> 256 -> d
  (ReLU after each), pairwise dot products (i < j) of [bottom output, field embeddings], top MLP
  on [bottom output, dot products] -> 512 -> 256 -> 1 (ReLU after the hidden layers).
- Linear layers: Xavier/Glorot uniform weights, zero biases. No BatchNorm, no dropout.
- Loss: mean BCE with logits. Dense parameters: Adam (--lr, default 1e-3; betas 0.9/0.999,
  eps 1e-8). Embeddings: lazy Adam (torch.optim.SparseAdam on sparse embeddings, global-step
  bias correction, as CompactRec's lazy-adam) by default, or plain Adam over whole tables with
  --dense-embeddings; learning rate --embedding-lr (default --lr); --l2 adds l2 * w to the
  gradient of each embedding row a batch touched, as CompactRec's --l2.

Training shuffles the train rows each epoch (batch --batch, default 4096; the last batch of an
epoch may be short), evaluates on validation after every epoch (and every --evaluate-every
steps), keeps the weights of the best validation AUC, and reports test AUC and logloss of those
weights. samples_per_second counts training steps only (not evaluation).

--throughput times whole training steps (forward, loss, backward, dense and sparse updates), as
`compactrec bench train --dataset` does: the first train rows are cut into a few batches of
--batch rows that are cycled (so loading is not measured), --warmup steps, then --repeats timed
runs of --steps steps; it prints the median and best samples/s and the load average.
"""
import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HEADER_BYTES = 64
ELEMENT_TYPES = {1: np.uint8, 2: np.float32, 3: np.uint32, 4: np.uint64}
SPLIT_PARTS = {"train": 0, "validation": 1, "test": 2}


# ---------------------------------------------------------------------------------------------
# Data


def read_column(path, expected_type, expected_width=None):
    """A column file (docs/FORMATS.md, "Column files") as a (rows, width) numpy array."""
    with open(path, "rb") as handle:
        header = handle.read(HEADER_BYTES)
    if len(header) != HEADER_BYTES or header[:8] != b"CRCOLUMN":
        raise SystemExit(f"{path}: not a CompactRec column file (no CRCOLUMN magic)")
    version, element = np.frombuffer(header[8:16], dtype="<u4")
    rows, width = np.frombuffer(header[16:32], dtype="<u8")
    rows, width = int(rows), int(width)
    if version != 1:
        raise SystemExit(f"{path}: column format version {version}, this script reads 1")
    dtype = ELEMENT_TYPES.get(int(element))
    if dtype is not expected_type:
        raise SystemExit(f"{path}: element type {element}, expected {np.dtype(expected_type).name}")
    if expected_width is not None and width != expected_width:
        raise SystemExit(f"{path}: {width} values per row, the manifest says {expected_width}")
    size = os.path.getsize(path)
    expected = HEADER_BYTES + rows * width * np.dtype(dtype).itemsize
    if size != expected:
        raise SystemExit(f"{path}: {size} bytes, the header says {expected}")
    values = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<"), offset=HEADER_BYTES)
    return values.reshape(rows, width)


class Dataset:
    """A prepared dataset held in memory as torch tensors."""

    def __init__(self, directory):
        with open(os.path.join(directory, "dataset.json")) as handle:
            manifest = json.load(handle)
        if manifest.get("format") != "compactrec-dataset":
            raise SystemExit(f"{directory}: dataset.json is not a compactrec-dataset manifest")
        schema = manifest["schema"]
        if schema.get("multiValued"):
            raise SystemExit(f"{directory}: multi-valued fields ({', '.join(schema['multiValued'])}) "
                             "are not supported by this reference")
        self.directory = directory
        self.manifest = manifest
        self.dense_names = list(schema["dense"])
        self.categorical_names = list(schema["categorical"])
        by_name = {field["name"]: field for field in manifest["fields"]}
        self.cardinalities = [int(by_name[name]["cardinality"]) for name in self.categorical_names]

        labels = read_column(os.path.join(directory, "labels.u8"), np.uint8, 1)[:, 0]
        split = read_column(os.path.join(directory, "split.u8"), np.uint8, 1)[:, 0]
        rows = labels.shape[0]
        if self.dense_names:
            dense = read_column(os.path.join(directory, "dense.f32"), np.float32, len(self.dense_names))
        else:
            dense = np.zeros((rows, 0), dtype=np.float32)
        if self.categorical_names:
            categorical = read_column(os.path.join(directory, "categorical.u32"), np.uint32,
                                      len(self.categorical_names))
        else:
            categorical = np.zeros((rows, 0), dtype=np.uint32)
        if not (split.shape[0] == dense.shape[0] == categorical.shape[0] == rows):
            raise SystemExit(f"{directory}: column files disagree on the number of rows")
        for f, (name, cardinality) in enumerate(zip(self.categorical_names, self.cardinalities)):
            top = int(categorical[:, f].max()) if rows else 0
            if top >= cardinality:
                raise SystemExit(f"{directory}: field {name} has id {top} >= cardinality {cardinality}")
        self.rows = rows
        self.labels = torch.from_numpy(labels.astype(np.float32))
        self.dense = torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32))
        # int32 in memory (half of int64); batches are widened when gathered.
        self.categorical = torch.from_numpy(categorical.astype(np.int32))
        self.parts = {}
        for name, code in SPLIT_PARTS.items():
            self.parts[name] = torch.from_numpy(np.flatnonzero(split == code).astype(np.int64))
        recorded = manifest.get("split", {}).get("rows")
        if recorded:
            for name, index in self.parts.items():
                if name in recorded and int(recorded[name]) != index.numel():
                    raise SystemExit(f"{directory}: split.u8 has {index.numel()} {name} rows, "
                                     f"dataset.json says {recorded[name]}")

    def batch(self, index):
        """(categorical ids int64, dense float32, labels float32) of the given rows."""
        return (self.categorical.index_select(0, index).long(), self.dense.index_select(0, index),
                self.labels.index_select(0, index))


# ---------------------------------------------------------------------------------------------
# Models


class FieldEmbedding(nn.Module):
    """One table of `width` per field (stored concatenated unless `per_field`), output (B, F, width)."""

    def __init__(self, cardinalities, width, sparse, std, per_field=False):
        super().__init__()
        self.per_field = per_field
        if per_field:
            self.tables = nn.ModuleList(nn.Embedding(c, width, sparse=sparse) for c in cardinalities)
            for table in self.tables:
                nn.init.normal_(table.weight, 0.0, std) if std > 0 else nn.init.zeros_(table.weight)
        else:
            offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
            self.register_buffer("offsets", torch.from_numpy(offsets), persistent=False)
            self.table = nn.Embedding(int(sum(cardinalities)), width, sparse=sparse)
            nn.init.normal_(self.table.weight, 0.0, std) if std > 0 else nn.init.zeros_(self.table.weight)

    def forward(self, ids):
        if self.per_field:
            return torch.stack([table(ids[:, f]) for f, table in enumerate(self.tables)], dim=1)
        return self.table(ids + self.offsets)


def xavier_linear(inputs, outputs):
    layer = nn.Linear(inputs, outputs)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(inputs, hidden, outputs):
    """Linear -> ReLU for each hidden width, then an optional Linear to `outputs` (no activation)."""
    layers, width = [], inputs
    for units in hidden:
        layers += [xavier_linear(width, units), nn.ReLU()]
        width = units
    if outputs is not None:
        layers.append(xavier_linear(width, outputs))
    return nn.Sequential(*layers)


class FirstOrder(nn.Module):
    """bias + per-field value weights (width-1 tables, zero-initialised) + dense . w."""

    def __init__(self, cardinalities, dense_count, sparse, per_field):
        super().__init__()
        self.weights = FieldEmbedding(cardinalities, 1, sparse, std=0.0, per_field=per_field)
        if dense_count > 0:
            self.dense_linear = xavier_linear(dense_count, 1)
            self.bias = None
        else:
            self.dense_linear = None
            self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, ids, dense):
        value = self.weights(ids).sum(dim=(1, 2))
        if self.dense_linear is not None:
            return value + self.dense_linear(dense).squeeze(1)
        return value + self.bias


def fm_pairs(vectors):
    """sum_{f<g} <e_f, e_g> of (B, F, d) vectors, as 0.5 * ((sum e)^2 - sum e^2)."""
    total = vectors.sum(dim=1)
    return 0.5 * (total * total - (vectors * vectors).sum(dim=1)).sum(dim=1)


class CTRModel(nn.Module):
    def __init__(self, kind, cardinalities, dense_count, dim, sparse, per_field):
        super().__init__()
        self.kind = kind
        fields = len(cardinalities)
        if kind in ("lr", "fm", "deepfm"):
            self.linear = FirstOrder(cardinalities, dense_count, sparse, per_field)
        if kind in ("fm", "deepfm", "dlrm"):
            self.embedding = FieldEmbedding(cardinalities, dim, sparse, std=0.01, per_field=per_field)
        if kind == "deepfm":
            self.deep = mlp(fields * dim + dense_count, [400, 400, 400], 1)
        if kind == "dlrm":
            if dense_count == 0:
                raise SystemExit("DLRM's bottom MLP reads dense features, and this dataset has none")
            self.bottom = mlp(dense_count, [512, 256, dim], None)
            vectors = fields + 1
            rows, columns = torch.triu_indices(vectors, vectors, offset=1)
            self.register_buffer("pair_rows", rows, persistent=False)
            self.register_buffer("pair_columns", columns, persistent=False)
            self.top = mlp(dim + rows.numel(), [512, 256], 1)

    def forward(self, ids, dense):
        if self.kind == "lr":
            return self.linear(ids, dense)
        if self.kind == "dlrm":
            bottom = self.bottom(dense)
            vectors = torch.cat([bottom.unsqueeze(1), self.embedding(ids)], dim=1)
            products = torch.bmm(vectors, vectors.transpose(1, 2))
            pairs = products[:, self.pair_rows, self.pair_columns]
            return self.top(torch.cat([bottom, pairs], dim=1)).squeeze(1)
        vectors = self.embedding(ids)
        logit = self.linear(ids, dense) + fm_pairs(vectors)
        if self.kind == "deepfm":
            logit = logit + self.deep(torch.cat([vectors.flatten(1), dense], dim=1)).squeeze(1)
        return logit


def optimizers(model, args):
    """(dense Adam, embedding optimizer): embeddings are every nn.Embedding's weight."""
    embedding_ids = {id(w) for w in embedding_weights(model)}
    embeddings = [p for p in model.parameters() if id(p) in embedding_ids]
    dense = [p for p in model.parameters() if id(p) not in embedding_ids]
    embedding_lr = args.embedding_lr if args.embedding_lr is not None else args.lr
    result = [torch.optim.Adam(dense, lr=args.lr)] if dense else []
    if embeddings:
        if args.dense_embeddings:
            result.append(torch.optim.Adam(embeddings, lr=embedding_lr))
        else:
            result.append(torch.optim.SparseAdam(embeddings, lr=embedding_lr))
    return result


def embedding_weights(model):
    return [m.weight for m in model.modules() if isinstance(m, nn.Embedding)]


@torch.no_grad()
def add_embedding_l2(weights, l2):
    """CompactRec's --l2: g += l2 * w on each embedding row the batch touched (once per row)."""
    for weight in weights:
        grad = weight.grad
        if grad is None:
            continue
        if grad.is_sparse:
            grad = grad.coalesce()
            rows = grad.indices()[0]
            weight.grad = torch.sparse_coo_tensor(grad.indices(), grad.values() + l2 * weight.index_select(0, rows),
                                                  grad.shape, is_coalesced=True, check_invariants=False)
        else:
            touched = grad.abs().sum(dim=1) != 0
            grad[touched] += l2 * weight[touched]


def training_step(model, opts, batch, args, embeddings):
    ids, dense, labels = batch
    loss = F.binary_cross_entropy_with_logits(model(ids, dense), labels)
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.l2:
        add_embedding_l2(embeddings, args.l2)
    for opt in opts:
        opt.step()
    return loss


def build(kind, data, args):
    return CTRModel(kind, data.cardinalities, len(data.dense_names), args.dim,
                    sparse=not args.dense_embeddings, per_field=args.per_field_tables)


# ---------------------------------------------------------------------------------------------
# Metrics


def exact_auc(labels, scores):
    """ROC AUC with ties counted half (Mann-Whitney U with average ranks), in float64."""
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    positives = labels.sum()
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], sorted_scores.size]
    average = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


try:
    from sklearn.metrics import roc_auc_score as _sklearn_auc
except ImportError:  # pragma: no cover - optional dependency
    _sklearn_auc = None


def auc(labels, scores):
    if _sklearn_auc is not None:
        return float(_sklearn_auc(labels, scores))
    return exact_auc(labels, scores)


@torch.no_grad()
def evaluate(model, data, part, batch=16384):
    """(AUC, mean logloss) of `model` on a split part."""
    model.eval()
    index = data.parts[part]
    logits = []
    for start in range(0, index.numel(), batch):
        ids, dense, _ = data.batch(index[start:start + batch])
        logits.append(model(ids, dense))
    model.train()
    logits = torch.cat(logits).double()
    labels = data.labels.index_select(0, index).double()
    logloss = F.binary_cross_entropy_with_logits(logits, labels).item()
    return auc(labels.numpy(), logits.numpy()), logloss


# ---------------------------------------------------------------------------------------------
# Training


def train(kind, data, args):
    torch.manual_seed(args.seed)
    model = build(kind, data, args)
    opts = optimizers(model, args)
    embeddings = embedding_weights(model)
    generator = torch.Generator().manual_seed(args.seed)
    train_rows = data.parts["train"]
    n = train_rows.numel()
    steps_per_epoch = math.ceil(n / args.batch)
    embedding_lr = args.embedding_lr if args.embedding_lr is not None else args.lr
    print(f"# {kind}: {sum(p.numel() for p in model.parameters())} parameters, train {n} / validation "
          f"{data.parts['validation'].numel()} / test {data.parts['test'].numel()} rows, batch {args.batch}, "
          f"lr {args.lr}, embedding lr {embedding_lr} "
          f"({'dense Adam' if args.dense_embeddings else 'SparseAdam'}), l2 {args.l2}, threads {torch.get_num_threads()}",
          flush=True)

    best = {"auc": -1.0, "state": None, "step": 0, "epoch": 0}
    history = []
    step, trained_samples, train_seconds = 0, 0, 0.0
    loss_sum, loss_batches = 0.0, 0
    evaluations_without_gain = 0
    stop = False

    def run_evaluation(epoch):
        nonlocal loss_sum, loss_batches, evaluations_without_gain, stop
        started = time.perf_counter()
        v_auc, v_logloss = evaluate(model, data, "validation")
        train_loss = loss_sum / max(loss_batches, 1)
        record = {"step": step, "epoch": round(epoch, 4), "validation_auc": round(v_auc, 6),
                  "validation_logloss": round(v_logloss, 6), "train_loss": round(train_loss, 6)}
        history.append(record)
        improved = v_auc > best["auc"]
        if improved:
            best.update(auc=v_auc, step=step, epoch=epoch,
                        state={k: v.detach().clone() for k, v in model.state_dict().items()})
            evaluations_without_gain = 0
        else:
            evaluations_without_gain += 1
            if args.patience is not None and evaluations_without_gain >= args.patience:
                stop = True
        print(f"step {step:6d}  epoch {epoch:6.3f}  validation auc {v_auc:.6f}  logloss {v_logloss:.6f}  "
              f"train loss {train_loss:.6f}{'  *' if improved else ''}  "
              f"({time.perf_counter() - started:.1f}s eval, {train_seconds:.1f}s training)", flush=True)
        loss_sum, loss_batches = 0.0, 0

    for epoch in range(args.epochs):
        order = train_rows[torch.randperm(n, generator=generator)]
        for b in range(steps_per_epoch):
            index = order[b * args.batch:(b + 1) * args.batch]
            started = time.perf_counter()
            loss = training_step(model, opts, data.batch(index), args, embeddings)
            train_seconds += time.perf_counter() - started
            trained_samples += index.numel()
            step += 1
            loss_sum += loss.item()
            loss_batches += 1
            if args.evaluate_every and step % args.evaluate_every == 0 and b + 1 < steps_per_epoch:
                run_evaluation(epoch + (b + 1) / steps_per_epoch)
                if stop:
                    break
            if args.max_steps and step >= args.max_steps:
                stop = True
                break
        if not history or history[-1]["step"] != step:
            run_evaluation(step / steps_per_epoch)
        if stop:
            break

    model.load_state_dict(best["state"])
    t_auc, t_logloss = evaluate(model, data, "test")
    result = {"model": kind, "dataset": data.directory, "auc": round(t_auc, 6), "logloss": round(t_logloss, 6),
              "best_validation_auc": round(best["auc"], 6), "best_step": best["step"],
              "best_epoch": round(best["epoch"], 4), "steps": step,
              "samples_per_second": round(trained_samples / train_seconds, 1) if train_seconds else None,
              "batch": args.batch, "lr": args.lr, "embedding_lr": embedding_lr, "dim": args.dim,
              "embeddings": "dense-adam" if args.dense_embeddings else "sparse-adam", "l2": args.l2,
              "threads": torch.get_num_threads(), "seed": args.seed, "evaluations": history}
    print(f"test auc {t_auc:.6f}  logloss {t_logloss:.6f}  (best validation auc {best['auc']:.6f} at step "
          f"{best['step']})", flush=True)
    print(json.dumps(result), flush=True)
    return result


# ---------------------------------------------------------------------------------------------
# Throughput


def throughput(kind, data, args):
    torch.manual_seed(args.seed)
    model = build(kind, data, args)
    opts = optimizers(model, args)
    rows = data.parts["train"]
    count = min(args.cycle_batches, max(1, rows.numel() // args.batch))
    batches = [data.batch(rows[i * args.batch:(i + 1) * args.batch]) for i in range(count)]

    embeddings = embedding_weights(model)

    def steps(k):
        for s in range(k):
            training_step(model, opts, batches[s % count], args, embeddings)

    steps(args.warmup)
    rates = []
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        started = time.perf_counter()
        steps(args.steps)
        rates.append(args.steps * batches[0][0].shape[0] / (time.perf_counter() - started))
    load_after = os.getloadavg()
    result = {"model": kind, "throughput": True, "dataset": data.directory, "dim": args.dim,
              "batch": batches[0][0].shape[0], "threads": torch.get_num_threads(),
              "embeddings": "dense-adam" if args.dense_embeddings else "sparse-adam",
              "per_field_tables": args.per_field_tables, "warmup": args.warmup, "steps": args.steps,
              "repeats": args.repeats, "median_samples_per_second": round(statistics.median(rates), 1),
              "best_samples_per_second": round(max(rates), 1), "runs": [round(r, 1) for r in rates],
              "loadavg_before": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in load_after], "torch": torch.__version__}
    print(f"{kind:7s} d={args.dim} batch {result['batch']} threads {result['threads']}: median "
          f"{result['median_samples_per_second']:.0f} samples/s, best {result['best_samples_per_second']:.0f} "
          f"(runs {result['runs']}; load {load_before[0]:.2f} -> {load_after[0]:.2f})", flush=True)
    print(json.dumps(result), flush=True)
    return result


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", help="a directory written by `compactrec prepare`")
    parser.add_argument("--model", default=None,
                        help="lr, fm, deepfm or dlrm; comma-separated to run several in turn (default deepfm; "
                             "with --throughput default deepfm,dlrm)")
    parser.add_argument("--dim", type=int, default=16, help="embedding width d (default 16)")
    parser.add_argument("--batch", type=int, default=4096, help="rows per step (default 4096)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the train rows (default 1)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of the dense parameters")
    parser.add_argument("--embedding-lr", type=float, default=None, help="embedding learning rate (default --lr)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sparse", dest="dense_embeddings", action="store_false",
                       help="sparse embeddings with SparseAdam, i.e. lazy Adam (default)")
    group.add_argument("--dense-embeddings", dest="dense_embeddings", action="store_true",
                       help="dense embedding gradients with plain Adam (every row decays every step)")
    parser.set_defaults(dense_embeddings=False)
    parser.add_argument("--l2", type=float, default=0.0,
                        help="L2 penalty on the embedding rows a batch touched, g += l2 * w (CompactRec's --l2)")
    parser.add_argument("--per-field-tables", action="store_true",
                        help="one nn.Embedding per field instead of one concatenated table (same model)")
    parser.add_argument("--evaluate-every", type=int, default=None, help="also evaluate every N steps")
    parser.add_argument("--patience", type=int, default=None,
                        help="stop after N evaluations without a better validation AUC (default: never)")
    parser.add_argument("--max-steps", type=int, default=None, help="stop training after N steps")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of initialisation and shuffling (default 1)")
    parser.add_argument("--throughput", action="store_true", help="time training steps instead of training")
    parser.add_argument("--warmup", type=int, default=3, help="throughput: untimed steps (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="throughput: steps per timed run (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="throughput: timed runs (default 3)")
    parser.add_argument("--cycle-batches", type=int, default=4, help="throughput: distinct batches cycled (default 4)")
    parser.add_argument("--output", help="append each run's JSON result to this file")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    model = args.model or ("deepfm,dlrm" if args.throughput else "deepfm")
    kinds = [k.strip().lower() for k in model.split(",")]
    for kind in kinds:
        if kind not in ("lr", "fm", "deepfm", "dlrm"):
            parser.error(f"unknown model {kind!r} (lr, fm, deepfm, dlrm)")
    started = time.perf_counter()
    data = Dataset(args.dataset)
    print(f"# {args.dataset}: {data.rows} rows, {len(data.dense_names)} dense, {len(data.categorical_names)} "
          f"categorical fields ({sum(data.cardinalities)} embedding rows), loaded in "
          f"{time.perf_counter() - started:.1f}s; torch {torch.__version__}", flush=True)
    for kind in kinds:
        result = throughput(kind, data, args) if args.throughput else train(kind, data, args)
        if args.output:
            with open(args.output, "a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
