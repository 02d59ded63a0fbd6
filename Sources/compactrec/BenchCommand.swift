import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec bench`: micro-benchmarks of the kernels, to compare with reference libraries.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark CompactRec's kernels (compare with bench/*.py on the same machine).",
        subcommands: [GEMMBenchCommand.self, TrainBenchCommand.self]
    )
}

/// `compactrec bench gemm`: GFLOP/s of `GEMM.multiply` on the 12 products of a CTR MLP's dense
/// layers (forward X W, backward dY W^T and X^T dY), as `bench/gemm_reference.py` measures them
/// for numpy's BLAS.
struct GEMMBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GFLOP/s of GEMM on the MLP layers' forward and backward products.",
        discussion: """
            Layers (inputs x outputs): 429x400, 400x400, 367x512, 512x256 at the given batch size. \
            For each: X W (forward), dY W^T (input gradient), X^T dY (weight gradient). Each \
            repeat runs the product for at least --seconds and reports GFLOP/s (2 m n k per \
            product); the table shows the median and best of the repeats.
            """
    )

    @Option(help: "Threads to measure with; repeat to measure several (default: 1 and 2).")
    var threads: [Int] = []

    @Option(help: "Timed repeats per product (the median and best are reported).")
    var repeats = 5

    @Option(help: "Rows of X (the batch size).")
    var batch = 4096

    @Option(help: "Minimum seconds per timed repeat.")
    var seconds = 0.25

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard threads.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let threadCounts = threads.isEmpty ? [1, 2] : threads
        var results: [GEMMBenchResult] = []
        for count in threadCounts {
            for product in GEMMBenchProduct.mlp(batch: batch) {
                results.append(product.measure(threads: count, repeats: repeats, seconds: seconds))
                FileHandle.standardError.write(
                    Data("  \(product.shape) \(product.op) threads \(count): \(fixed(results[results.count - 1].median)) GFLOP/s\n".utf8))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print("| shape | op | threads | median GFLOP/s | best GFLOP/s |")
            print("| --- | --- | --- | --- | --- |")
            for result in results {
                print("| \(result.shape) | \(result.op) | \(result.threads) | \(fixed(result.median)) | \(fixed(result.best)) |")
            }
        }
    }

    private func fixed(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// One measured product (the JSON record of `compactrec bench gemm --json`).
struct GEMMBenchResult: Codable {
    var shape: String
    var op: String
    var m: Int
    var n: Int
    var k: Int
    var threads: Int
    var median: Double
    var best: Double
    var runs: [Double]
}

/// One product of the benchmark: C (m x n) = op(A) op(B) with its operands.
struct GEMMBenchProduct {
    var shape: String
    var op: String
    var a: Matrix
    var transposeA: Bool
    var b: Matrix
    var transposeB: Bool
    var m: Int
    var n: Int
    var k: Int

    /// The three products of each MLP layer (inputs x outputs) at `batch` rows.
    static func mlp(batch: Int) -> [GEMMBenchProduct] {
        var random = SeededRandom(seed: 7)
        var products: [GEMMBenchProduct] = []
        for (inputs, outputs) in [(429, 400), (400, 400), (367, 512), (512, 256)] {
            let x = Matrix.uniform(rows: batch, columns: inputs, limit: 1, random: &random)
            let w = Matrix.uniform(rows: inputs, columns: outputs, limit: 0.1, random: &random)
            let dy = Matrix.uniform(rows: batch, columns: outputs, limit: 1, random: &random)
            products.append(
                GEMMBenchProduct(
                    shape: "(\(batch)x\(inputs))(\(inputs)x\(outputs))", op: "X W",
                    a: x, transposeA: false, b: w, transposeB: false,
                    m: batch, n: outputs, k: inputs))
            products.append(
                GEMMBenchProduct(
                    shape: "(\(batch)x\(outputs))(\(outputs)x\(inputs))", op: "dY W^T",
                    a: dy, transposeA: false, b: w, transposeB: true,
                    m: batch, n: inputs, k: outputs))
            products.append(
                GEMMBenchProduct(
                    shape: "(\(inputs)x\(batch))(\(batch)x\(outputs))", op: "X^T dY",
                    a: x, transposeA: true, b: dy, transposeB: false,
                    m: inputs, n: outputs, k: batch))
        }
        return products
    }

    /// GFLOP/s of `repeats` timed runs of at least `seconds` each, after a warm-up.
    func measure(threads: Int, repeats: Int, seconds: Double) -> GEMMBenchResult {
        let workspace = GEMMWorkspace()
        var c = Matrix(rows: m, columns: n)
        GEMM.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, threads: threads, workspace: workspace)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        var runs: [Double] = []
        for _ in 0..<repeats {
            var iterations = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                GEMM.multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c, threads: threads, workspace: workspace)
                iterations += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds
            runs.append(flops * Double(iterations) / elapsed / 1e9)
        }
        let sorted = runs.sorted()
        let median =
            sorted.count % 2 == 1
            ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return GEMMBenchResult(
            shape: shape, op: op, m: m, n: n, k: k, threads: threads,
            median: median, best: sorted.last ?? 0, runs: runs)
    }
}
