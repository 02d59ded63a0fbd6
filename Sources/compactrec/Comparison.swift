import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// One method's line of the comparison.
struct ComparisonRow: Codable {
    var method: String
    var auc: Double
    var logloss: Double
    var embeddingParams: Int
    var widths: [Int]
    var validationAUC: Double?
    var note: String

    enum CodingKeys: String, CodingKey {
        case method, auc, logloss, widths, note
        case embeddingParams = "embedding_params"
        case validationAUC = "best_validation_auc"
    }
}

/// The comparison table.
struct Comparison: Codable {
    var model: String
    var dataset: String
    var seed: UInt64
    var rows: [ComparisonRow]
    var fields: [String]
    var fdeSecondsPerEpoch: Double
    var searchSecondsPerEpoch: Double

    enum CodingKeys: String, CodingKey {
        case model, dataset, seed, rows, fields
        case fdeSecondsPerEpoch = "fde_seconds_per_epoch"
        case searchSecondsPerEpoch = "search_seconds_per_epoch"
    }

    /// The table in Markdown: method, test AUC, logloss, embedding parameters (and their share
    /// of FDE's).
    func markdown() -> String {
        let reference = Double(rows.first?.embeddingParams ?? 1)
        var lines = [
            "\(model) on \(dataset)", "",
            "| method | test AUC | test logloss | embedding params | of FDE | note |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in rows {
            lines.append(
                "| \(row.method) | \(ProgressBar.fixed(row.auc, 4)) | \(ProgressBar.fixed(row.logloss, 4)) | \(row.embeddingParams) | "
                    + "\(ProgressBar.fixed(100 * Double(row.embeddingParams) / reference, 1))% | \(row.note) |")
        }
        lines.append("")
        lines.append(
            "Search cost: \(ProgressBar.fixed(searchSecondsPerEpoch, 1)) s per AutoDim search epoch against "
                + "\(ProgressBar.fixed(fdeSecondsPerEpoch, 1)) s per FDE training epoch "
                + "(\(ProgressBar.fixed(searchSecondsPerEpoch / max(fdeSecondsPerEpoch, 1e-9), 2))x).")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Each method over several seeds: what `compare --seeds N` heads its table with, since one
/// seed's difference of 0.001 in AUC says little about a method.
struct ComparisonSummary: Encodable {
    /// One method's statistics over the seeds.
    struct Method: Encodable {
        var method: String
        var auc: SampleStatistics
        var logloss: SampleStatistics
        var embeddingParams: SampleStatistics
        /// Seed by seed, this method's test AUC minus the first row's (FDE's) with that seed.
        var aucMinusReference: [Double]

        enum CodingKeys: String, CodingKey {
            case method, auc, logloss
            case embeddingParams = "embedding_params"
            case aucMinusReference = "auc_minus_reference"
        }
    }

    var model: String
    var dataset: String
    var seeds: [UInt64]
    var methods: [Method]
    var comparisons: [Comparison]

    /// The summary of `comparisons`, one per seed, each listing the same methods in the same order.
    init(_ comparisons: [Comparison]) {
        let names = comparisons.first?.rows.map(\.method) ?? []
        precondition(comparisons.allSatisfy { $0.rows.map(\.method) == names }, "ComparisonSummary: every seed compares the same methods")
        model = comparisons.first?.model ?? ""
        dataset = comparisons.first?.dataset ?? ""
        seeds = comparisons.map(\.seed)
        self.comparisons = comparisons
        methods = names.indices.compactMap { m in
            let rows = comparisons.map { $0.rows[m] }
            guard let auc = SampleStatistics(rows.map(\.auc)), let logloss = SampleStatistics(rows.map(\.logloss)),
                let parameters = SampleStatistics(rows.map { Double($0.embeddingParams) })
            else { return nil }
            return Method(
                method: names[m], auc: auc, logloss: logloss, embeddingParams: parameters,
                aucMinusReference: comparisons.map { $0.rows[m].auc - ($0.rows.first?.auc ?? 0) })
        }
    }

    /// The table in Markdown: per method, test AUC as mean and standard deviation with each
    /// seed's value, each seed's difference from the first row, mean logloss and parameters.
    func markdown() -> String {
        let reference = methods.first?.embeddingParams.mean ?? 1
        // Rounded to 4 places, with no "-0.0000" for a difference smaller than 0.00005.
        let signed = { (value: Double) in
            let rounded = (value * 10_000).rounded() / 10_000
            return (rounded >= 0 ? "+" : "") + ProgressBar.fixed(rounded == 0 ? 0 : rounded, 4)
        }
        var lines = [
            "\(model) on \(dataset), seeds \(seeds.map(String.init).joined(separator: ", ")): mean and standard deviation over the seeds",
            "",
            "| method | test AUC | per seed | minus \(methods.first?.method ?? "the first row"), per seed | test logloss | embedding params (mean) | of FDE |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for (m, method) in methods.enumerated() {
            let perSeed = comparisons.map { ProgressBar.fixed($0.rows[m].auc, 4) }.joined(separator: " / ")
            let differences = m == 0 ? "" : method.aucMinusReference.map(signed).joined(separator: " / ")
            lines.append(
                "| \(method.method) | \(ProgressBar.fixed(method.auc.mean, 4)) ± \(ProgressBar.fixed(method.auc.standardDeviation, 4)) "
                    + "| \(perSeed) | \(differences) | \(ProgressBar.fixed(method.logloss.mean, 4)) | \(Int(method.embeddingParams.mean.rounded())) "
                    + "| \(ProgressBar.fixed(100 * method.embeddingParams.mean / max(reference, 1), 1))% |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
