import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference

/// AutoDim's search options, shared by `search`, `autodim` and `compare`.
struct SearchSettingOptions: ParsableArguments {
    @Option(help: "Candidate widths per field, comma-separated (default: 2,8,16,24,32).")
    var candidates: String?

    @Option(
        help:
            "Candidate tables: weight-sharing (one table of the largest width; candidate d uses its first d columns) or separate (default: weight-sharing)."
    )
    var candidateTables: DimensionSearchEmbedding.CandidateTables?

    @Option(help: "How candidates reach the largest width: linear (a learned map with bias) or zero-padding (default: linear).")
    var unify: DimensionSearchEmbedding.Unification?

    @Option(
        help:
            "Gumbel-softmax temperature: published (max(0.01, 1 - 0.00005 t), t = samples / 2000) or search-length (1 down to 0.01 over the search) (default: published)."
    )
    var tauSchedule: TemperatureSchedule?

    @Option(help: "Learning rate of the architecture weights' SGD (default: 0.001).")
    var alphaLR: Float?

    @Option(
        help:
            "Fraction of the search, in [0, 1), during which only the weights train and alpha stays uniform, so that the candidates that train fastest get no head start (default: 0, the paper's search)."
    )
    var alphaWarmup: Double?

    @Option(
        help:
            "Scale of each field's mixed vector: unit (as the paper's BatchNorm without scale and shift leaves it), a fixed factor such as 0.05, or learned (a per-column scale from 0.01 and a shift, shared by the field's candidates); FM's and DeepFM's dot products need less than unit variance (default: unit)."
    )
    var mixedScale: DimensionSearchEmbedding.MixedScale?

    @Flag(help: "One-level search (the paper's AD-s): weights and architecture from the same training batch, no validation rows.")
    var oneLevel = false

    @Flag(
        help:
            "Bi-level with DARTS's second-order approximation: alpha's gradient through a virtual weights step (about 3x the cost of an architecture step)."
    )
    var secondOrder = false

    @Option(help: "The second-order virtual step's size xi (default: --lr).")
    var virtualStep: Float?

    /// The search settings these options give.
    func resolve() throws -> DimensionSearchOptions {
        var options = DimensionSearchOptions()
        if let candidates {
            guard let widths = TrainingSettingOptions.widths(candidates) else {
                throw ValidationError("--candidates must be positive widths separated by commas, e.g. 2,8,16,24,32")
            }
            options.candidates = Array(Set(widths)).sorted()
        }
        options.candidateTables = candidateTables ?? options.candidateTables
        options.unification = unify ?? options.unification
        options.temperatureSchedule = tauSchedule ?? options.temperatureSchedule
        if let alphaLR {
            guard alphaLR > 0 && alphaLR.isFinite else { throw ValidationError("--alpha-lr must be a positive number") }
            options.architectureLearningRate = alphaLR
        }
        if let alphaWarmup {
            guard alphaWarmup >= 0 && alphaWarmup < 1 else {
                throw ValidationError("--alpha-warmup must be a fraction in [0, 1), e.g. 0.5")
            }
            options.warmUpFraction = alphaWarmup
        }
        options.mixedScale = mixedScale ?? options.mixedScale
        options.levels = oneLevel ? .oneLevel : .biLevel
        guard !(oneLevel && secondOrder) else {
            throw ValidationError("--second-order is a bi-level option; drop --one-level or --second-order")
        }
        options.secondOrder = secondOrder
        if let virtualStep {
            guard virtualStep > 0 && virtualStep.isFinite else { throw ValidationError("--virtual-step must be a positive number") }
            options.virtualStep = virtualStep
        }
        return options
    }
}

extension DimensionSearchEmbedding.CandidateTables: ExpressibleByArgument {}
extension DimensionSearchEmbedding.Unification: ExpressibleByArgument {}
extension DimensionSearchEmbedding.MixedScale: ExpressibleByArgument {}
extension TemperatureSchedule: ExpressibleByArgument {}
