import CompactRecTestSupport
import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// `export --format safetensors`: a valid safetensors file with every weight under a PyTorch
/// state-dict name, and (where Python has numpy and safetensors) the documented Python snippet
/// reproduces CompactRec's scores.
@Suite struct SafetensorsExportTests {
    static let models: [(String, ModelConfiguration)] = {
        var deepFM = ModelConfiguration(kind: .deepfm, dimension: 8)
        deepFM.mlp = [16, 8]
        deepFM.batchNorm = true
        deepFM.embedding = .plain(PlainEmbeddingMethod(widths: [2, 8, 4, 1, 8, 3, 2, 6]))
        var dlrm = ModelConfiguration(kind: .dlrm, dimension: 4)
        (dlrm.bottomMLP, dlrm.topMLP) = ([8], [8])
        var wd = ModelConfiguration(kind: .wd, dimension: 4)
        wd.mlp = [8]
        return [
            ("deepfm", deepFM), ("dlrm", dlrm), ("wd", wd), ("fm", ModelConfiguration(kind: .fm, dimension: 4)),
            ("lr", ModelConfiguration(kind: .lr, dimension: 4)),
        ]
    }()

    @Test(arguments: 0..<models.count)
    func tensorsAreNamedShapedAndContiguous(model index: Int) throws {
        let (name, configuration) = Self.models[index]
        let trained = try TrainedModel(configuration, rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let path = trained.directory + "/\(name).safetensors"
        let written = try SafetensorsExport.write(trained.modelFile, to: path)
        #expect(written.configPath == trained.directory + "/\(name).json")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(headerLength % 8 == 0)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + headerLength])) as? [String: Any])
        var ranges: [(Int, Int)] = []
        var values = 0
        for (key, entry) in header where key != "__metadata__" {
            let tensor = try #require(entry as? [String: Any])
            #expect(tensor["dtype"] as? String == "F32")
            let shape = try #require(tensor["shape"] as? [Int])
            let offsets = try #require(tensor["data_offsets"] as? [Int])
            #expect(offsets[1] - offsets[0] == 4 * shape.reduce(1, *), "\(key)")
            ranges.append((offsets[0], offsets[1]))
            values += shape.reduce(1, *)
        }
        ranges.sort { $0.0 < $1.0 }
        #expect(ranges.first?.0 == 0 && ranges.last?.1 == bytes.count - 8 - headerLength)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.1 == $1.0 }, "tensors are back to back")
        let stateValues = trained.modelFile.weights.states.reduce(0) { $0 + $1.count }
        #expect(values == trained.modelFile.header.totalParameters + stateValues, "every weight, plus BatchNorm's running statistics")
        let keys = Set(header.keys)
        switch configuration.kind {
        case .deepfm:
            #expect(
                keys.isSuperset(of: [
                    "embedding.C1.weight", "embedding.C1.projection.weight", "first_order.C1.weight",
                    "first_order.dense.weight", "mlp.0.weight", "mlp.1.running_var", "mlp.6.bias",
                ]))
            #expect(!keys.contains("embedding.C2.projection.weight"), "a field of width d has no projection")
            #expect((header["embedding.C1.projection.weight"] as? [String: Any])?["shape"] as? [Int] == [8, 2])
            #expect((header["mlp.0.weight"] as? [String: Any])?["shape"] as? [Int] == [16, 8 * 8 + 13])
        case .dlrm:
            #expect(keys.isSuperset(of: ["bottom_mlp.0.weight", "bottom_mlp.2.bias", "top_mlp.0.weight", "top_mlp.2.weight"]))
        default:
            #expect(keys.contains("first_order.bias") || keys.contains("first_order.dense.bias"))
        }
    }

    /// The Python snippet in docs/python scores rows as `Predictor` does.
    @Test(
        .enabled(if: PythonCheck.available, "python3 with numpy and safetensors is not installed: the Python snippet is not run"),
        arguments: 0..<models.count)
    func pythonSnippetReproducesTheScores(model index: Int) throws {
        let (name, configuration) = Self.models[index]
        let trained = try TrainedModel(configuration, rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let path = trained.directory + "/\(name).safetensors"
        _ = try SafetensorsExport.write(trained.modelFile, to: path)
        var rows = try trained.namedRows(40)
        rows[3]["C2"] = .text("never-seen")
        rows[4] = [:]
        let requestPath = trained.directory + "/rows.json"
        try Data(TrainedModel.requestBody(rows).utf8).write(to: URL(fileURLWithPath: requestPath))
        let output = try PythonCheck.run([TestData.packageRoot + "/docs/python/compactrec_safetensors.py", path, requestPath])
        let python = output.split(separator: "\n").compactMap { Double($0) }
        let swift = try Predictor(file: trained.modelFile, source: name).probabilities(named: rows)
        #expect(python.count == swift.count)
        let worst = zip(python, swift).map { abs($0 - Double($1)) }.max() ?? .infinity
        #expect(worst <= 1e-5, "\(name): largest difference \(worst)")
    }
}

/// Whether `python3` with numpy and safetensors is here, and running it.
enum PythonCheck {
    static let available: Bool = {
        let found = (try? run(["-c", "import numpy, safetensors"])) != nil
        if !found {
            print(
                "SafetensorsExportTests: skipping the Python check: `python3 -c \"import numpy, safetensors\"` failed (pip install safetensors)"
            )
        }
        return found
    }()

    /// Runs python3 with `arguments`; its stdout, or an error with its stderr.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
