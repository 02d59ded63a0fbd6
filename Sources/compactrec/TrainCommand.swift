import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec train`: trains a model on a prepared dataset and reports test metrics.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CTR model on a prepared dataset and report its test metrics.",
        discussion: """
            Trains on the train rows (shuffled each epoch), evaluates on validation after each \
            epoch (or every --evaluate-every steps), keeps the weights with the best validation \
            AUC (stopping after --patience evaluations without improvement), and reports AUC and \
            logloss of those weights on the test rows. Embedding tables are updated sparsely (only \
            the rows a batch used).

            The run directory (--output) receives, at every evaluation and atomically, \
            checkpoint.bin (the whole training state) and best.weights (the best weights so far), \
            and as training goes metrics.jsonl (one JSON object per line); at the end results.json \
            and report.html (charts of loss and validation AUC). Ctrl-C saves a checkpoint and \
            stops; the same command with --resume continues and ends with the same weights as an \
            uninterrupted run (same --threads).

            --embedding mlet trains each field as an n x k table (k = --inner-dim) followed by a \
            k x d linear map; best.weights holds them multiplied into one n x d table, a plain \
            model of width d, which is what the test metrics are measured on and what evaluate \
            reads. The checkpoint keeps the tables and maps, so --resume continues training them. \
            With --dims as well (FM, DeepFM, DLRM), each field trains as an n x k table, a k x d_f \
            map to its own width and the d_f x d projection; best.weights holds the n x d_f tables \
            and projections, the same model as plain tables of those widths (AutoDim's or MDE's \
            widths retrained with MLET).

            --output model.crmodel (a path ending in .crmodel) keeps the run directory in \
            model.run beside it and, at the end, writes the best weights as a model file for \
            compactrec predict and serve (what compactrec export writes from a run directory).

            Settings come from the options, else from --config FILE.yaml (the same names in \
            snake_case: model, embedding, dim, dims, inner_dim, inner_dims, mlp, bottom_mlp, \
            top_mlp, batch_norm, dropout, batch_size, epochs, lr, lr_decay, embedding_lr, optimizer, \
            dense_optimizer, l2, seed, threads, evaluate_every, patience, log_every), else the \
            defaults shown.
            """
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var dataset: String

    @OptionGroup var settings: TrainingSettingOptions

    @Option(
        help:
            "Run directory for the checkpoint, best weights, metrics log and report (default: runs/<model>-<embedding>-d<dim>[-k<inner-dim>]-seed<seed>); a path ending in .crmodel writes that model file at the end and keeps the run in NAME.run."
    )
    var output: String?

    @Flag(help: "Continue the run in --output from its checkpoint.")
    var resume = false

    @Flag(help: "Start over in a run directory that holds a previous run (deletes that run's checkpoint, weights, log and report).")
    var force = false

    @Flag(help: "Print the test metrics as one JSON object.")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard !(resume && force) else { throw ValidationError("--resume continues a run and --force deletes it: give one") }
        try settings.validateRanges()
    }

    func run() async throws {
        let store = try ColumnStore(directory: dataset)
        let configuration = try settings.resolve(for: store)
        let embedding = configuration.model.embedding
        let inner = embedding.innerWidths.map { "-k\($0.max() ?? 0)" } ?? ""
        let collisions = if case .quotientRemainder(let method) = embedding { "-c\(method.collisions)" } else { "" }
        let modelFile = output.flatMap { $0.hasSuffix(".crmodel") ? $0 : nil }
        let directory =
            modelFile.map { String($0.dropLast(".crmodel".count)) + ".run" } ?? output
            ?? "runs/\(configuration.model.kind.rawValue)-\(embedding.kind?.rawValue ?? "search")-"
            + "d\(configuration.model.dimension)\(inner)\(collisions)-seed\(configuration.options.seed)"
        let run = TrainingRun(directory: directory, configuration: configuration, resume: resume)
        if force { run.removePreviousFiles() }
        let outcome = try TrainingSession(run: run, store: store, quiet: quiet || json).train()
        let sections = try modelFile.map { path in
            try ModelFile(
                inference: outcome.inference, training: configuration, step: outcome.step,
                validation: outcome.validation, store: store
            ).write(to: path)
        }
        if json {
            print(try jsonString(outcome.result))
        } else {
            outcome.printSummary()
            if let modelFile, let sections { print("  model file: \(modelFile) (\(sections.total) bytes)") }
        }
    }
}

extension ModelKind: ExpressibleByArgument {}
extension EmbeddingMethod.Kind: ExpressibleByArgument {}
extension SparseUpdateRule: ExpressibleByArgument {}
extension DenseUpdateRule: ExpressibleByArgument {}
