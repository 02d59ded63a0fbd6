import CompactRecData
import Foundation

/// The effective rank of an embedding table (Roy and Vetterli, 2007): exp of the entropy of its
/// normalised singular values, a number between 1 (every row on one line) and the width (all
/// directions used equally).
///
/// The MLET paper explains its gain by the factorised training finding tables of lower effective
/// rank than a plain table of the same width; reporting it per field makes that checkable.
public enum EffectiveRank {
    /// The effective rank of `table` (0 for a table of zeros).
    public static func of(_ table: EmbeddingTable) -> Double {
        of(rows: table.rows, columns: table.dimension, values: table.weights)
    }

    /// The effective rank of the `rows` x `columns` row-major matrix `values`.
    public static func of(rows: Int, columns: Int, values: [Float]) -> Double {
        let sigma = singularValues(rows: rows, columns: columns, values: values)
        let total = sigma.reduce(0, +)
        guard total > 0 else { return 0 }
        var entropy = 0.0
        for s in sigma where s > 0 {
            let p = s / total
            entropy -= p * Foundation.log(p)
        }
        return Foundation.exp(entropy)
    }

    /// Singular values, largest first: square roots of the eigenvalues of the Gram matrix
    /// EᵀE (columns x columns, accumulated in Double; embedding widths are small).
    public static func singularValues(rows: Int, columns d: Int, values: [Float]) -> [Double] {
        precondition(values.count >= rows * d, "EffectiveRank: \(values.count) values for \(rows) x \(d)")
        var gram = [Double](repeating: 0, count: d * d)
        values.withUnsafeBufferPointer { e in
            for r in 0..<rows {
                let row = r * d
                for i in 0..<d {
                    let x = Double(e[row + i])
                    if x == 0 { continue }
                    for j in i..<d { gram[i * d + j] += x * Double(e[row + j]) }
                }
            }
        }
        for i in 0..<d { for j in 0..<i { gram[i * d + j] = gram[j * d + i] } }
        return symmetricEigenvalues(gram, size: d).map { max($0, 0).squareRoot() }.sorted(by: >)
    }

    /// Eigenvalues of the symmetric `size` x `size` matrix `a` by cyclic Jacobi rotations,
    /// which converge quadratically and are accurate for the small matrices met here.
    static func symmetricEigenvalues(_ matrix: [Double], size n: Int) -> [Double] {
        var a = matrix
        let scale = a.reduce(0) { $0 + $1 * $1 }
        guard n > 1, scale > 0 else { return (0..<n).map { a[$0 * n + $0] } }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-30 * scale { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p]
                        let akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k]
                        let aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }
    }
}
