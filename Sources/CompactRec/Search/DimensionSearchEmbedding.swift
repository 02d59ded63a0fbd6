import CompactRecData

/// AutoDim's search-stage embedding (Zhao et al., "AutoDim: Field-aware Embedding Dimension
/// Search in Recommender Systems", WWW 2021): every field offers candidate widths, and a learned
/// distribution over them (the architecture weights `alpha`, one row per field) mixes them.
///
/// Per field `f` and candidate `m` of width `d_m`: the candidate's rows `e_m` (the first `d_m`
/// columns of one shared table of the largest width, or a table of its own), unified to the
/// largest width `D` by a linear map with bias (or zero padding), then normalised by a BatchNorm
/// without scale and shift so that candidates of different magnitude compete fairly. The field's
/// vector is `sum_m p_m BN_m(T_m(e_m))`, with `p` a Gumbel-softmax sample of `softmax(alpha_f)`
/// at the current `temperature` (training) or `softmax(alpha_f / temperature)` (evaluation).
///
/// The BatchNorms leave every column of the mixed vector at unit variance, 100 times a plain
/// table's starting rows, and the pairwise dot products that FM and DeepFM add to the logit
/// (with no weight of their own) cannot then be made small except by making the fields'
/// vectors low-rank, which favours the narrowest candidate everywhere (see
/// docs/BENCHMARKS.md). `mixedScale` says what the model is fed instead: the paper's
/// unit-variance vectors (`unit`), those times a fixed factor (`fixed`), or a learned
/// per-column scale and shift per field that all its candidates share (`learned`,
/// `gamma * v + beta`, gamma starting at a plain table's scale). Because the mixing weights
/// sum to 1, the last two are a BatchNorm scale and shift shared by the candidates:
/// they still compete at equal magnitude.
///
/// The backward pass adds dLoss/dalpha to `architecture.gradient` when
/// `accumulatesArchitectureGradient` is set; the architecture weights are not among
/// `denseParameters`, so the weights' optimiser never moves them (`DimensionSearch` does).
public final class DimensionSearchEmbedding: EmbeddingLayer {
    /// Where the candidates' rows come from.
    public enum CandidateTables: String, Sendable, Codable, CaseIterable {
        /// One table of the largest width per field; candidate `m` uses its first `d_m` columns.
        case shared = "weight-sharing"
        /// A table per field and candidate.
        case separate
    }

    /// The scale of each field's mixed vector on its way into the model, written `unit`,
    /// `learned` or a positive number.
    public enum MixedScale: Sendable, Equatable, Codable, LosslessStringConvertible {
        /// As the BatchNorms leave it: unit variance per column (the paper's search).
        case unit
        /// Unit variance times this factor, fixed (the same for every field and column).
        case fixed(Float)
        /// A learned per-column scale (starting at `tableInitialScale`) and shift per field,
        /// shared by the field's candidates.
        case learned

        /// `unit`, `learned`, or a positive finite factor such as `0.05`.
        public init?(_ description: String) {
            switch description {
            case "unit": self = .unit
            case "learned": self = .learned
            default:
                guard let factor = Float(description), factor > 0, factor.isFinite else { return nil }
                self = .fixed(factor)
            }
        }

        /// The form `init?(_:)` reads.
        public var description: String {
            switch self {
            case .unit: "unit"
            case .learned: "learned"
            case .fixed(let factor): "\(factor)"
            }
        }

        /// Decodes the written form.
        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let scale = MixedScale(text) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "mixed scale must be unit, learned or a positive number, not \(text)"))
            }
            self = scale
        }

        /// Encodes the written form.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// How a candidate is brought to the largest width.
    public enum Unification: String, Sendable, Codable, CaseIterable {
        /// A learned `d_m -> D` linear map with bias.
        case linear
        /// Zeros after the candidate's values.
        case zeroPadding = "zero-padding"
    }

    /// Candidate widths, ascending.
    public let candidates: [Int]
    /// The common output width (the largest candidate).
    public let width: Int
    /// Where the candidates' rows come from.
    public let candidateTables: CandidateTables
    /// Architecture weights, fields x candidates (start at 0: a uniform choice).
    public let architecture: DenseParameter
    /// Gumbel-softmax temperature of the next training forward.
    public var temperature: Float = 1
    /// Whether `backward` adds dLoss/dalpha to `architecture.gradient`.
    public var accumulatesArchitectureGradient = true
    /// The scale of the mixed vectors the model is fed.
    public let mixedScale: MixedScale
    /// The `learned` scale's starting value: a plain table's starting standard deviation
    /// (`FullEmbedding`'s 0.01), so the supernet starts at a plain model's magnitude.
    public static let tableInitialScale: Float = 0.01
    /// Whether a training forward keeps each field's last Gumbel noise instead of drawing anew
    /// (for gradient checks, which compare losses at perturbed weights under the same noise).
    public var reusesNoise = false
    /// Cores the fields are shared out over.
    public var threads: Int {
        get { rows.first?.threads ?? 1 }
        set { for table in rows { table.threads = newValue } }
    }

    /// The gathering of the candidates' rows: one embedding of width D per field (shared), or
    /// one per candidate.
    let rows: [FullEmbedding]
    let fields: [SearchField]
    /// Unless `mixedScale` is `unit`, per field, the scale and shift of its mixed vector
    /// (`1 x D` each; learned only with `learned`).
    let mixedScales: [DenseParameter]
    let mixedShifts: [DenseParameter]
    private var random: SeededRandom
    private var output: Matrix
    private var rowGradients: [Matrix]
    /// Unless `mixedScale` is `unit`, dLoss/d(mixed vectors) of the backward in progress
    /// (batch x fields * D).
    private var mixedGradient: Matrix

    /// The supernet for fields of `cardinalities` (schema order; `categoricalCount`
    /// single-valued, the rest multi-valued) named `names`, over `candidates`, feeding the
    /// model mixed vectors of `mixedScale`.
    public init(
        cardinalities: [Int], candidates: [Int], tables: CandidateTables = .shared, unification: Unification = .linear,
        mixedScale: MixedScale = .unit, categoricalCount: Int, names: [String], seed: UInt64, random: inout SeededRandom
    ) {
        let sorted = Array(Set(candidates)).sorted()
        precondition(!sorted.isEmpty && sorted.allSatisfy { $0 >= 1 }, "DimensionSearchEmbedding: candidates must be positive")
        let width = sorted.last ?? 1
        self.candidates = sorted
        self.width = width
        candidateTables = tables
        switch tables {
        case .shared:
            rows = [
                FullEmbedding(
                    cardinalities: cardinalities, dimensions: cardinalities.map { _ in width },
                    categoricalCount: categoricalCount, names: names, random: &random)
            ]
        case .separate:
            rows = sorted.map { d in
                FullEmbedding(
                    cardinalities: cardinalities, dimensions: cardinalities.map { _ in d }, categoricalCount: categoricalCount,
                    names: names.map { "\($0).candidate\(d)" }, random: &random)
            }
        }
        fields = names.map {
            SearchField(name: $0, candidates: sorted, separateInputs: tables == .separate, linear: unification == .linear, random: &random)
        }
        architecture = DenseParameter(name: "architecture", value: Matrix(rows: names.count, columns: sorted.count))
        self.mixedScale = mixedScale
        let affineNames = mixedScale == .unit ? [] : names
        let factor: Float = if case .fixed(let factor) = mixedScale { factor } else { Self.tableInitialScale }
        mixedScales = affineNames.map {
            DenseParameter(name: "\($0).mixed.scale", value: Matrix(rows: 1, columns: width, repeating: factor))
        }
        mixedShifts = affineNames.map { DenseParameter(name: "\($0).mixed.shift", value: Matrix(rows: 1, columns: width)) }
        mixedGradient = Matrix(rows: 0, columns: width * names.count)
        self.random = SeededRandom(seed: seed, stream: 0x6A_4D17)
        output = Matrix(rows: 0, columns: width * names.count)
        rowGradients = rows.map { Matrix(rows: 0, columns: $0.outputWidth) }
    }

    /// D for every field.
    public var outputDimensions: [Int] { Array(repeating: width, count: fields.count) }
    /// The candidates' tables.
    public var tables: [EmbeddingTable] { rows.flatMap(\.tables) }
    /// The unifying transforms and the learned scales and shifts (not the architecture weights).
    public var denseParameters: [DenseParameter] {
        fields.flatMap(\.parameters) + (mixedScale == .learned ? mixedScales + mixedShifts : [])
    }
    /// Table values plus transform weights and biases (and the learned scales and shifts).
    public var parameterCount: Int { tables.reduce(0) { $0 + $1.parameterCount } + denseParameters.reduce(0) { $0 + $1.count } }

    /// Per field, `softmax(alpha_f)`: the search's current belief about each candidate.
    public var candidateProbabilities: [[Float]] {
        (0..<fields.count).map { f in GumbelSoftmax.softmax((0..<candidates.count).map { architecture.value[f, $0] }) }
    }

    /// Per field, the candidate width of largest `alpha` (the search's choice).
    public var chosenWidths: [Int] {
        (0..<fields.count).map { f in
            var best = 0
            for m in candidates.indices where architecture.value[f, m] > architecture.value[f, best] { best = m }
            return candidates[best]
        }
    }

    /// The supernet's evaluation-mode vectors tabulated per id: the mixing with the
    /// deterministic weights and the BatchNorms' running statistics is a fixed affine function
    /// of each row (and so of a multi-valued field's mean row), so one D-wide table per field
    /// gives exactly the evaluation forward's vectors, except for an empty multi-valued bag
    /// (whose zero vector the supernet maps to a constant, and a table leaves at zero). The
    /// search's product is the choice of widths, retrained from scratch; this form is what its
    /// supernet would be if exported.
    public func inferenceForm() -> EmbeddingInferenceForm {
        let tables = (0..<fields.count).map { f -> EmbeddingTable in
            let field = fields[f]
            let n = rows[0].tables[f].rows
            let sources = rows.map { embedding in
                Matrix(rows: n, columns: embedding.tables[f].dimension, values: embedding.tables[f].weights)
            }
            field.sample = deterministicSample(field: f)
            field.forward(sources: sources, offsets: sources.map { _ in 0 }, training: false)
            guard mixedScale != .unit else {
                return EmbeddingTable(name: rows[0].tables[f].name, rows: n, dimension: width, weights: field.mixed.values)
            }
            var vectors = Matrix(rows: n, columns: width)
            ColumnAffine.apply(field.mixed, scale: mixedScales[f].value, shift: mixedShifts[f].value, to: &vectors, at: 0)
            return EmbeddingTable(name: rows[0].tables[f].name, rows: n, dimension: width, weights: vectors.values)
        }
        return EmbeddingInferenceForm(tables: tables, projections: [], projectionNames: [])
    }

    /// The mixing weights without noise, `softmax(alpha_f / temperature)`.
    private func deterministicSample(field f: Int) -> GumbelSoftmax {
        GumbelSoftmax(
            alpha: (0..<candidates.count).map { architecture.value[f, $0] }, temperature: temperature,
            noise: candidates.map { _ in 0 })
    }

    /// Mixed vectors of every field, side by side (batch x fields * D).
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let gathered = rows.map { $0.forward(batch, training: training) }
        for f in fields.indices {
            let alpha = (0..<candidates.count).map { architecture.value[f, $0] }
            if !training {
                fields[f].sample = deterministicSample(field: f)
            } else if reusesNoise {
                fields[f].sample = GumbelSoftmax(alpha: alpha, temperature: temperature, noise: fields[f].sample.noise)
            } else {
                fields[f].sample = GumbelSoftmax(alpha: alpha, temperature: temperature, random: &random)
            }
        }
        let shared = rows.count == 1
        let context = UncheckedSendable((fields, gathered, candidates, width))
        Parallel.forEachClaimed(fields.count, threads: threads) { f in
            let (fields, gathered, candidates, width) = context.value
            let offsets = shared ? [f * width] : candidates.map { f * $0 }
            fields[f].forward(sources: gathered, offsets: offsets, training: training)
        }
        output.resize(rows: batch.size)
        for (f, field) in fields.enumerated() {
            if mixedScale != .unit {
                ColumnAffine.apply(field.mixed, scale: mixedScales[f].value, shift: mixedShifts[f].value, to: &output, at: f * width)
            } else {
                output.setColumns(f * width, from: field.mixed)
            }
        }
        return output
    }

    /// The candidates' gradients into their rows and transforms, and (if set) dLoss/dalpha.
    ///
    /// When the tables do not require gradients (an architecture step), only dLoss/dalpha is
    /// computed: nothing below the mixing is differentiated.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        let weights = tables.first?.requiresGradient ?? true
        var outputGradient = outputGradient
        if mixedScale != .unit {
            mixedGradient.resize(rows: batch.size)
            for f in fields.indices {
                let accumulates = mixedScale == .learned && mixedScales[f].requiresGradient
                ColumnAffine.backward(
                    outputGradient, at: f * width, source: fields[f].mixed, scale: mixedScales[f].value,
                    inputGradient: &mixedGradient, scaleGradient: &mixedScales[f].gradient,
                    shiftGradient: &mixedShifts[f].gradient, accumulatesParameters: accumulates)
            }
            outputGradient = mixedGradient
        }
        let context = UncheckedSendable((fields, outputGradient, width))
        Parallel.forEachClaimed(fields.count, threads: threads) { f in
            let (fields, outputGradient, width) = context.value
            fields[f].backward(outputGradient, offset: f * width, weights: weights)
        }
        let shared = rows.count == 1
        // Every field writes its own columns of the row gradients, so they need no clearing.
        for r in rows.indices where weights { rowGradients[r].resize(rows: batch.size) }
        for (f, field) in fields.enumerated() {
            if weights && shared {
                CandidateMixing.copyColumns(of: field.inputGradient, from: 0, count: width, to: &rowGradients[0], at: f * width)
            } else if weights {
                for (m, d) in candidates.enumerated() {
                    CandidateMixing.copyColumns(
                        of: field.inputGradient, from: field.inputOffsets[m], count: d,
                        to: &rowGradients[m], at: f * d)
                }
            }
            if accumulatesArchitectureGradient {
                let alpha = (0..<candidates.count).map { architecture.value[f, $0] }
                let gradient = field.sample.alphaGradient(weightGradient: field.weightGradient, alpha: alpha)
                for m in candidates.indices { architecture.gradient[f, m] += gradient[m] }
            }
        }
        for (r, embedding) in rows.enumerated() where weights { embedding.backward(rowGradients[r], batch: batch) }
    }
}

extension DimensionSearchEmbedding {
    /// What the search changes besides the supernet's weights (tables, maps, learned scales),
    /// for checkpoints: the architecture weights alpha, the Gumbel noise generator and each
    /// field's BatchNorm running statistics.
    public struct SearchState: Codable, Sendable, Equatable {
        /// Alpha's values as bit patterns, fields x candidates row-major (JSON numbers would not
        /// round-trip every Float exactly).
        public var alphaBits: [UInt32]
        /// The noise generator's state.
        public var generator: [UInt64]
        /// Per field, its running statistics (`SearchField.runningStatisticsWords`).
        public var runningStatistics: [[UInt64]]
    }

    /// The current search state.
    public var searchState: SearchState {
        SearchState(
            alphaBits: architecture.value.storage.map(\.bitPattern), generator: random.state,
            runningStatistics: fields.map(\.runningStatisticsWords))
    }

    /// Restores `state`; false (changing nothing) if it does not fit this supernet.
    public func restore(_ state: SearchState) -> Bool {
        guard state.alphaBits.count == architecture.value.count, state.runningStatistics.count == fields.count,
            let generator = SeededRandom(state: state.generator),
            zip(fields, state.runningStatistics).allSatisfy({ $0.runningStatisticsWords.count == $1.count })
        else { return false }
        for (field, words) in zip(fields, state.runningStatistics) { _ = field.restoreRunningStatistics(words) }
        let columns = architecture.value.columns
        for (i, bits) in state.alphaBits.enumerated() { architecture.value[i / columns, i % columns] = Float(bitPattern: bits) }
        random = generator
        return true
    }
}

extension DimensionSearchOptions: EmbeddingMethodDefinition {
    /// Checks the model has embeddings, the candidates are positive, and the model's width is
    /// the largest candidate (what every candidate is unified to).
    public func validate(in context: EmbeddingContext) throws(ModelError) {
        guard context.model != .lr else {
            throw .invalidSetting(
                .embedding,
                reason: "logistic regression has no embeddings to search; "
                    + "use the fm, wd, deepfm, dlrm or dcnv2 model")
        }
        guard !candidates.isEmpty, candidates.allSatisfy({ $0 >= 1 }) else {
            throw .invalidSetting(.candidates, reason: "must be positive widths, e.g. 2,8,16,24,32")
        }
        guard candidates.max() == context.dimension else {
            throw .invalidSetting(
                .dim,
                reason: "is \(context.dimension); a search supernet's width is its largest candidate "
                    + "(\(candidates.max() ?? 0))")
        }
    }

    /// The supernet: every candidate per field, mixed by architecture weights.
    public func makeLayer(in context: EmbeddingContext, random: inout SeededRandom) -> any EmbeddingLayer {
        DimensionSearchEmbedding(
            cardinalities: context.cardinalities, candidates: candidates, tables: candidateTables,
            unification: unification, mixedScale: mixedScale, categoricalCount: context.categoricalCount,
            names: context.tableNames, seed: context.seed, random: &random)
    }

    /// The supernet's fields all have the largest candidate's width.
    public var fieldWidths: [Int]? { nil }

    /// "search over 2/8/16/24/32".
    public var summary: String { "search over \(candidates.map(String.init).joined(separator: "/"))" }
}
