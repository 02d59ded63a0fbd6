import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `compactrec bench train`: training throughput (samples/s) of whole training steps, as
/// `compactrec train` runs them, against the roofline of the models' matrix products.
struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Samples/s of training steps per model, FLOPs per sample and the roofline fraction.",
        discussion: """
            Builds each --model (plain embeddings of width --dim, the CLI's default MLPs and \
            optimizers: Adam for dense layers, lazy Adam for embedding rows) and runs the \
            trainer's step (forward, loss, backward, sparse and dense updates) on --batch rows: \
            --warmup steps, then --repeats timed runs of --steps steps; it reports the median \
            and best samples/s of the runs. Batches are synthetic (26 categorical fields with \
            Zipf-like ids over Criteo-Kaggle's cardinality profile, 13 dense values) or, with \
            --dataset, the first train batches of a prepared dataset; either way a few batches \
            are loaded before timing and cycled, so loading is not measured.

            FLOPs per sample count the multiply-adds of the models' matrix products (every \
            Linear layer: forward X W, backward dY W^T and X^T dY; DLRM's first bottom layer \
            has no dY W^T, its input being the data), 2 FLOPs each. With \
            --reference-gflops (the BLAS GFLOP/s measured in the same session, e.g. by \
            bench/gemm_reference.py) the roofline is that rate divided by the FLOPs per sample.

            --vocabulary runs each model with the given totals of embedding rows (spread over \
            the 26 fields in proportion to the default profile), to show that a step costs the \
            rows a batch uses, not the table size. Each configuration runs in a fresh process \
            (unless --in-process), so its peak resident memory (getrusage) is its own; it is \
            reported beside the bytes of parameters plus optimizer state.
            """
    )

    @Option(name: .customLong("model"), help: "Model to measure; repeat for several (default: fm, wd, deepfm, dlrm).")
    var models: [ModelKind] = []

    @Option(help: "Embedding width d.")
    var dim = 16

    @Option(help: "MLET: train each field as an n x k table and a k x d map (k = this, at least --dim) instead of a plain table.")
    var innerDim: Int?

    @Option(help: "Rows per step.")
    var batch = 4096

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads = Parallel.defaultThreads

    @Option(help: "A prepared dataset directory to take batches from (default: synthetic batches).")
    var dataset: String?

    @Option(help: "Untimed steps before the timed runs.")
    var warmup = 3

    @Option(help: "Steps per timed run.")
    var steps = 10

    @Option(help: "Timed runs (the median and best are reported).")
    var repeats = 5

    @Option(help: "The reference BLAS GFLOP/s measured in the same session, for the roofline fraction.")
    var referenceGflops: Double?

    @Option(help: "Comma-separated totals of embedding rows to sweep (e.g. 1e5,1e6,1e7), synthetic data only.")
    var vocabulary: String?

    @Option(help: "Seed of the weights and the synthetic batches.")
    var seed: UInt64 = 1

    @Flag(help: "Also time the phases of a step (forward, loss, backward, sparse and dense updates).")
    var breakdown = false

    @Flag(help: "Also time the model's matrix products alone (each weight's X W, dY W^T, X^T dY at --batch rows).")
    var products = false

    @Flag(help: "Run every configuration in this process (peak memory is then the process's).")
    var inProcess = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard dim >= 1, batch >= 1, threads >= 1, warmup >= 0, steps >= 1, repeats >= 1 else {
            throw ValidationError("--dim, --batch, --threads, --steps and --repeats must be at least 1, --warmup at least 0")
        }
        if let referenceGflops, !(referenceGflops > 0) { throw ValidationError("--reference-gflops must be positive") }
        if let innerDim, innerDim < dim { throw ValidationError("--inner-dim must be at least --dim") }
        if vocabulary != nil {
            guard dataset == nil else { throw ValidationError("--vocabulary needs synthetic data (no --dataset)") }
            guard let totals = vocabularyTotals, !totals.isEmpty else {
                throw ValidationError("--vocabulary must be positive counts separated by commas, e.g. 1e5,1e6,1e7")
            }
            guard totals.allSatisfy({ $0 >= TrainBenchData.fields }) else {
                throw ValidationError("--vocabulary totals must be at least \(TrainBenchData.fields) (one row per field)")
            }
        }
    }

    /// The totals of `--vocabulary` (accepts 100000 or 1e5).
    var vocabularyTotals: [Int]? {
        guard let vocabulary else { return nil }
        let values = vocabulary.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1e10 }) else { return nil }
        return values.compactMap { $0.map { Int($0.rounded()) } }
    }

    func run() throws {
        let kinds = models.isEmpty ? [ModelKind.fm, .wd, .deepfm, .dlrm] : models
        let totals: [Int?] = vocabularyTotals ?? [nil]
        var records: [TrainBenchRecord] = []
        let configurations = totals.flatMap { total in kinds.map { (kind: $0, total: total) } }
        for (kind, total) in configurations {
            let record: TrainBenchRecord
            if inProcess || configurations.count == 1 {
                record = try measure(kind, vocabularyTotal: total)
            } else {
                record = try measureInChild(kind, vocabularyTotal: total)
            }
            records.append(record)
            if !json { printToStandardError("  \(record.summary)\n") }
        }
        if json {
            print(try jsonString(records))
        } else {
            printTable(records)
        }
    }

    /// One configuration, measured in this process.
    func measure(_ kind: ModelKind, vocabularyTotal: Int?) throws -> TrainBenchRecord {
        let data: TrainBenchData
        if let dataset {
            data = try TrainBenchData(dataset: dataset, batchSize: batch, seed: seed)
        } else {
            data = TrainBenchData(synthetic: vocabularyTotal, batchSize: batch, seed: seed)
        }
        var configuration = ModelConfiguration(kind: kind, dimension: dim)
        if let innerDim { configuration.embedding = .mlet(MLETEmbeddingMethod(innerWidths: data.cardinalities.map { _ in innerDim })) }
        let model = try data.makeModel(configuration, seed: seed)
        let step = TrainBenchStep(model: model, threads: threads)
        var losses: [Float] = []
        let phases = TrainBenchPhases()
        var index = 0
        for _ in 0..<warmup {
            losses.append(try step.run(data.batches[index % data.batches.count], phases: nil))
            index += 1
        }
        var runs: [Double] = []
        for _ in 0..<repeats {
            let started = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps {
                losses.append(try step.run(data.batches[index % data.batches.count], phases: breakdown ? phases : nil))
                index += 1
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            runs.append(Double(steps * batch) / seconds)
        }
        let flops = TrainBenchStep.flopsPerSample(model)
        // A roofline only for models whose work is matrix products (not FM's few dense weights).
        let reference = flops >= 1e4 ? referenceGflops : nil
        let sorted = runs.sorted()
        let median = (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
        let parameterBytes = model.totalParameterCount * MemoryLayout<Float>.stride
        let stateBytes = (step.step.sparseOptimizer.stateCount + step.step.denseOptimizer.stateCount) * MemoryLayout<Float>.stride
        return TrainBenchRecord(
            model: kind.rawValue, dimension: dim, innerDimension: innerDim, batch: batch, threads: threads,
            data: dataset ?? "synthetic", embeddingRows: model.embedding.tables.reduce(0) { $0 + $1.rows },
            steps: steps, repeats: repeats, medianSamplesPerSecond: median, bestSamplesPerSecond: runs.max() ?? 0, runs: runs,
            flopsPerSample: flops, medianGFLOPs: median * flops / 1e9,
            referenceGFLOPs: reference, rooflineSamplesPerSecond: reference.map { $0 * 1e9 / flops },
            rooflineFraction: reference.map { median * flops / ($0 * 1e9) },
            parameters: model.totalParameterCount, parameterBytes: parameterBytes, optimizerStateBytes: stateBytes,
            peakResidentBytes: peakResidentBytes(),
            firstLoss: losses.first ?? 0, lastLoss: losses.last ?? 0,
            phaseMilliseconds: breakdown ? phases.milliseconds() : nil,
            products: products ? TrainBenchProduct.measure(model, batch: batch, threads: threads) : nil)
    }

    /// One configuration, measured by a fresh `compactrec bench train` process (so that peak
    /// memory and allocator state are its own).
    func measureInChild(_ kind: ModelKind, vocabularyTotal: Int?) throws -> TrainBenchRecord {
        var arguments = [
            "bench", "train", "--in-process", "--json", "--model", kind.rawValue, "--dim", "\(dim)",
            "--batch", "\(batch)", "--threads", "\(threads)", "--warmup", "\(warmup)", "--steps", "\(steps)",
            "--repeats", "\(repeats)", "--seed", "\(seed)",
        ]
        if let dataset { arguments += ["--dataset", dataset] }
        if let innerDim { arguments += ["--inner-dim", "\(innerDim)"] }
        if let referenceGflops { arguments += ["--reference-gflops", "\(referenceGflops)"] }
        if let vocabularyTotal { arguments += ["--vocabulary", "\(vocabularyTotal)"] }
        if breakdown { arguments.append("--breakdown") }
        if products { arguments.append("--products") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("the measuring process for \(kind.rawValue) failed (status \(process.terminationStatus))")
        }
        let records = try JSONDecoder().decode([TrainBenchRecord].self, from: bytes)
        guard let record = records.first else { throw ValidationError("the measuring process printed no result") }
        return record
    }

    private func printTable(_ records: [TrainBenchRecord]) {
        let reference = referenceGflops.map { " vs \(fixed($0, 1)) GFLOP/s" } ?? ""
        print(
            "| model | rows | median samples/s | best | MFLOP/sample | GFLOP/s | roofline\(reference) | peak RSS MiB | params + state MiB |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in records {
            let roofline = r.rooflineFraction.map { "\(fixed(100 * $0, 1))% of \(Int(r.rooflineSamplesPerSecond ?? 0))" } ?? "-"
            print(
                "| \(r.model)\(r.innerDimension.map { " MLET d = \(r.dimension), k = \($0)" } ?? " d = \(r.dimension)") | \(r.embeddingRows) | \(Int(r.medianSamplesPerSecond)) | \(Int(r.bestSamplesPerSecond)) "
                    + "| \(fixed(r.flopsPerSample / 1e6, 3)) | \(fixed(r.medianGFLOPs, 1)) | \(roofline) "
                    + "| \(mebibytes(r.peakResidentBytes)) | \(mebibytes(r.parameterBytes + r.optimizerStateBytes)) |")
        }
        let phased = records.filter { $0.phaseMilliseconds != nil }
        if !phased.isEmpty {
            print("")
            print("| model | " + TrainBenchPhases.names.joined(separator: " ms | ") + " ms |")
            print("|---" + String(repeating: "|---", count: TrainBenchPhases.names.count) + "|")
            for r in phased {
                let values = TrainBenchPhases.names.map { fixed(r.phaseMilliseconds?[$0] ?? 0, 2) }
                print("| \(r.model) | " + values.joined(separator: " | ") + " |")
            }
        }

        for r in records {
            guard let products = r.products else { continue }
            print("")
            print("\(r.model): the model's matrix products alone, \(r.threads) threads")
            print("| weight | op | m x n x k | median ms | GFLOP/s | best ms | GFLOP/s |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            for p in products {
                let flops = 2 * Double(p.m * p.n * p.k)
                print(
                    "| \(p.weight) | \(p.op) | \(p.m) x \(p.n) x \(p.k) | \(fixed(p.milliseconds, 3)) | \(fixed(p.gflops, 1)) "
                        + "| \(fixed(p.bestMilliseconds, 3)) | \(fixed(flops / p.bestMilliseconds / 1e6, 1)) |")
            }
            let total = products.reduce(0) { $0 + $1.milliseconds }
            let best = products.reduce(0) { $0 + $1.bestMilliseconds }
            let flops = products.reduce(0) { $0 + 2 * Double($1.m * $1.n * $1.k) }
            print(
                "| all | | | \(fixed(total, 2)) | \(fixed(flops / total / 1e6, 1)) | \(fixed(best, 2)) | \(fixed(flops / best / 1e6, 1)) |")
        }
    }

    private func mebibytes(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 0) }
    private func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

/// The path of the running executable (to start measuring children).
private func executablePath() -> String {
    #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
    #endif
    return CommandLine.arguments[0]
}

/// Peak resident set size of this process in bytes (`ru_maxrss`: KiB on Linux, bytes on macOS).
private func peakResidentBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
    #endif
}

/// What one configuration measured (the JSON record of `bench train --json`).
struct TrainBenchRecord: Codable {
    var model: String
    var dimension: Int
    /// MLET's inner width k (nil: plain tables).
    var innerDimension: Int?
    var batch: Int
    var threads: Int
    var data: String
    /// Rows of the model's embedding tables, over all fields.
    var embeddingRows: Int
    var steps: Int
    var repeats: Int
    var medianSamplesPerSecond: Double
    var bestSamplesPerSecond: Double
    var runs: [Double]
    /// FLOPs per sample of the matrix products, forward + backward.
    var flopsPerSample: Double
    /// `medianSamplesPerSecond * flopsPerSample`, in GFLOP/s.
    var medianGFLOPs: Double
    var referenceGFLOPs: Double?
    var rooflineSamplesPerSecond: Double?
    var rooflineFraction: Double?
    var parameters: Int
    var parameterBytes: Int
    var optimizerStateBytes: Int
    var peakResidentBytes: Int
    var firstLoss: Float
    var lastLoss: Float
    /// Median milliseconds per step of each phase (with --breakdown).
    var phaseMilliseconds: [String: Double]?
    /// The model's matrix products timed alone (with --products).
    var products: [TrainBenchProduct]?

    var summary: String {
        "\(model) (\(embeddingRows) embedding rows): median \(Int(medianSamplesPerSecond)) samples/s, best \(Int(bestSamplesPerSecond)), "
            + "\(String(format: "%.1f", medianGFLOPs)) GFLOP/s, loss \(firstLoss) -> \(lastLoss)"
    }
}

/// The batches a benchmark cycles through, and the schema and cardinalities to size models.
struct TrainBenchData {
    /// Categorical fields of synthetic data (Criteo's 26).
    static let fields = 26
    /// Dense fields of synthetic data (Criteo's 13).
    static let denseFields = 13
    /// Batches loaded before timing.
    static let batchCount = 8

    let schema: Schema
    let cardinalities: [Int]
    let store: ColumnStore?
    var batches: [Batch] = []

    /// Synthetic batches: per field, ids with frequency about 1/rank (a log-uniform rank, spread
    /// over the table by a multiplicative hash); dense values uniform in [0, 4); 25% positives.
    /// Cardinalities follow Criteo-Kaggle's profile (capped at one million), scaled to
    /// `vocabularyTotal` rows in all when given.
    init(synthetic vocabularyTotal: Int?, batchSize: Int, seed: UInt64) {
        schema = Schema.criteo(denseCount: Self.denseFields, categoricalCount: Self.fields)
        var profile = TeacherConfiguration.defaultCardinalities(fields: Self.fields)
        if let vocabularyTotal {
            let sum = Double(profile.reduce(0, +))
            profile = profile.map { max(1, Int((Double($0) * Double(vocabularyTotal) / sum).rounded())) }
        }
        cardinalities = profile
        store = nil
        var random = SeededRandom(seed: seed, stream: 0xBE7C)
        for _ in 0..<Self.batchCount {
            var labels: [Float] = []
            var ids: [UInt32] = []
            var dense = Matrix(rows: batchSize, columns: Self.denseFields)
            for b in 0..<batchSize {
                labels.append(random.nextUnitFloat() < 0.25 ? 1 : 0)
                for j in 0..<Self.denseFields { dense[b, j] = 4 * random.nextUnitFloat() }
                for f in 0..<Self.fields {
                    let count = cardinalities[f]
                    let rank = min(count - 1, Int(exp(Double(random.nextUnitFloat()) * log(Double(count) + 1))) - 1)
                    ids.append(UInt32((UInt64(max(rank, 0)) &* 2_654_435_761) % UInt64(count)))
                }
            }
            batches.append(Batch(labels: labels, dense: dense, ids: ids, categoricalCount: Self.fields))
        }
    }

    /// The first train batches of a prepared dataset.
    init(dataset: String, batchSize: Int, seed: UInt64) throws {
        let store = try ColumnStore(directory: dataset)
        self.store = store
        schema = store.schema
        cardinalities = store.manifest.fields.compactMap(\.cardinality)
        var loader = BatchLoader(store: store, part: .train, batchSize: batchSize, shuffleSeed: seed)
        var batch = Batch(schema: schema)
        while batches.count < Self.batchCount, loader.next(into: &batch) { batches.append(batch) }
        guard !batches.isEmpty else { throw ValidationError("\(dataset) has no training rows") }
    }

    /// The model `configuration` describes (plain or MLET embeddings), as `ModelFactory.make`
    /// builds it for a prepared dataset (that path is used when there is one).
    func makeModel(_ configuration: ModelConfiguration, seed: UInt64) throws -> any CTRModel {
        if let store { return try ModelFactory.make(configuration, store: store, seed: seed) }
        return try ModelFactory.make(configuration, schema: schema, cardinalities: cardinalities, seed: seed, source: "synthetic batches")
    }
}

/// Time spent per phase of each timed step.
final class TrainBenchPhases {
    static let names = ["forward", "loss", "zero", "backward", "sparse", "dense"]
    /// Per phase, the seconds of each step.
    var seconds = [[Double]](repeating: [], count: names.count)

    /// Per phase, the median over the steps in milliseconds (robust to a step that a neighbour
    /// slowed down).
    func milliseconds() -> [String: Double] {
        Dictionary(
            uniqueKeysWithValues: zip(
                Self.names,
                seconds.map { times in
                    let sorted = times.sorted()
                    return sorted.isEmpty ? 0 : 1000 * (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
                }))
    }
}

/// One training step exactly as the trainer takes it (`TrainingStep`, with the optimizers the
/// default `TrainingOptions` give: lazy Adam for tables, Adam for dense parameters), timed.
final class TrainBenchStep {
    let step: TrainingStep
    private var steps = 0

    init(model: any CTRModel, threads: Int) {
        var options = TrainingOptions()
        options.threads = threads
        step = TrainingStep(model: model, options: options)
    }

    /// One step on `batch`; returns its loss. With `phases`, adds each phase's time to it.
    func run(_ batch: Batch, phases: TrainBenchPhases?) throws -> Float {
        steps += 1
        guard let phases else { return try step.run(on: batch, step: steps) }
        var clock = DispatchTime.now().uptimeNanoseconds
        return try step.run(on: batch, step: steps) { phase in
            let now = DispatchTime.now().uptimeNanoseconds
            phases.seconds[phase.rawValue].append(Double(now - clock) / 1e9)
            clock = now
        }
    }

    /// FLOPs per sample of a training step's matrix products: each weight matrix (a parameter
    /// named `*.weight`, inputs x outputs) costs inputs * outputs multiply-adds per sample in
    /// each of X W, dY W^T and X^T dY, except DLRM's first bottom layer's dY W^T: that layer
    /// reads the data, whose gradient DLRM does not compute.
    static func flopsPerSample(_ model: any CTRModel) -> Double {
        let weights = model.denseParameters.filter { $0.name.hasSuffix(".weight") }
        let multiplyAdds =
            3 * weights.reduce(0) { $0 + $1.value.count }
            - (weights.first.map { $0.name.hasPrefix("bottom_mlp") ? $0.value.count : 0 } ?? 0)
        return 2 * Double(multiplyAdds)
    }
}

/// One of a model's matrix products timed alone, as its Linear layer runs it.
struct TrainBenchProduct: Codable {
    var weight: String
    var op: String
    var m: Int, n: Int, k: Int
    /// Median and best milliseconds of 9 runs.
    var milliseconds: Double
    var bestMilliseconds: Double
    /// At the median time.
    var gflops: Double

    /// X W, dY W^T and X^T dY (accumulating, as a weight gradient does) for every weight of
    /// `model`, with random operands at `batch` rows.
    static func measure(_ model: any CTRModel, batch: Int, threads: Int) -> [TrainBenchProduct] {
        var random = SeededRandom(seed: 3)
        var results: [TrainBenchProduct] = []
        for parameter in model.denseParameters where parameter.name.hasSuffix(".weight") {
            let (inputs, outputs) = (parameter.value.rows, parameter.value.columns)
            let x = Matrix.uniform(rows: batch, columns: inputs, limit: 1, random: &random)
            let dy = Matrix.uniform(rows: batch, columns: outputs, limit: 1, random: &random)
            var y = Matrix(rows: batch, columns: outputs)
            var dx = Matrix(rows: batch, columns: inputs)
            var dw = Matrix(rows: inputs, columns: outputs)
            let w = parameter.value
            let cases: [(String, Int, Int, Int, (inout Matrix, inout Matrix, inout Matrix) -> Void)] = [
                ("X W", batch, outputs, inputs, { y, _, _ in GEMM.multiply(x, w, into: &y, threads: threads) }),
                ("dY W^T", batch, inputs, outputs, { _, dx, _ in GEMM.multiply(dy, w, transposeB: true, into: &dx, threads: threads) }),
                (
                    "X^T dY", inputs, outputs, batch,
                    { _, _, dw in GEMM.multiply(x, transposeA: true, dy, into: &dw, beta: 1, threads: threads) }
                ),
            ]
            for (op, m, n, k, run) in cases {
                run(&y, &dx, &dw)
                var times: [Double] = []
                for _ in 0..<9 {
                    let started = DispatchTime.now().uptimeNanoseconds
                    run(&y, &dx, &dw)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                }
                let median = times.sorted()[times.count / 2]
                results.append(
                    TrainBenchProduct(
                        weight: parameter.name, op: op, m: m, n: n, k: k, milliseconds: median,
                        bestMilliseconds: times.min() ?? median, gflops: 2 * Double(m * n * k) / median / 1e6))
            }
        }
        return results
    }
}
