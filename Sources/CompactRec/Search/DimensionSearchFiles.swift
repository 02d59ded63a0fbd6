import CompactRecData
import Foundation

/// The files a search leaves in its directory: `dims.json` (field name to chosen width, the
/// format `train --dims` reads), `search.json` (everything: alpha, the history, the settings)
/// and `alpha.svg` (each field's expected width under `softmax(alpha)` over the search); and the
/// table printed on stdout.
public enum DimensionSearchFiles {
    /// Writes the three files into `directory` (created if needed), each atomically.
    public static func write(_ result: DimensionSearchResult, to directory: String) throws(TrainingError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: directory, reason: error.localizedDescription)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let dims = "{\n" + zip(result.fields, result.widths).map { "  \"\($0)\": \($1)" }.joined(separator: ",\n") + "\n}\n"
        try AtomicFile.writeRunFile(Array(dims.utf8), to: directory + "/dims.json")
        do {
            try AtomicFile.writeRunFile(Array(try encoder.encode(result)) + [UInt8(ascii: "\n")], to: directory + "/search.json")
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .writeFailed(path: directory + "/search.json", reason: error.localizedDescription)
        }
        try AtomicFile.writeRunFile(Array(chart(result).render().utf8), to: directory + "/alpha.svg")
    }

    /// Each field's expected width `sum_m softmax(alpha_f)_m d_m` against samples seen.
    public static func chart(_ result: DimensionSearchResult) -> SVGChart {
        let series = result.fields.enumerated().map { f, name in
            ChartSeries(
                name: name,
                points: result.history.map { snapshot in
                    let expected = zip(snapshot.probabilities[f], result.candidates).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    return ChartPoint(x: Double(snapshot.samples), y: expected)
                })
        }
        return SVGChart(
            title: "AutoDim search: each field's expected width under softmax(alpha)",
            xLabel: "training samples seen", yLabel: "expected width", series: series, width: 720, height: 400)
    }

    /// The choice as a text table: field, cardinality, chosen width, softmax(alpha) over the
    /// candidates, and (when given) the generator's truth per field; then the supernet's
    /// validation metrics, which say whether the model the choice was read from worked at all.
    public static func table(_ result: DimensionSearchResult, truth: [String: String] = [:]) -> String {
        let probabilities = result.history.last?.probabilities ?? []
        var lines = [
            "field\tcardinality\tchosen\t" + result.candidates.map { "p(\($0))" }.joined(separator: "\t")
                + (truth.isEmpty ? "" : "\ttruth")
        ]
        for (f, name) in result.fields.enumerated() {
            let row = f < probabilities.count ? probabilities[f].map { String(format: "%.3f", $0) } : []
            lines.append(
                "\(name)\t\(result.cardinalities[f])\t\(result.widths[f])\t" + row.joined(separator: "\t")
                    + (truth.isEmpty ? "" : "\t\(truth[name] ?? "-")"))
        }
        lines.append(
            String(
                format: "supernet on the validation rows (mixing without noise): AUC %.4f, logloss %.4f",
                result.validation.auc, result.validation.logloss))
        return lines.joined(separator: "\n") + "\n"
    }
}
