#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// One dense column of the teacher world: a log-normal count, floored to an integer and shifted
/// by `offset` (I2 has small negatives, as in Criteo), missing at `missingRate`.
struct TeacherDenseSpec: Sendable {
    /// Mean of the count's logarithm.
    let logMean: Double
    /// Standard deviation of the count's logarithm.
    let logStd: Double
    /// Added to the floored count (negative for a column with small negatives).
    let offset: Int64
    /// Whether the teacher uses the column (otherwise it is pure noise).
    let signal: Bool
    /// Fraction of rows where the value is missing (an empty column).
    let missingRate: Double
    /// `missingRate` as a threshold on a 64-bit random number.
    let missingThreshold: UInt64
}

/// One categorical field of the teacher world, with pointers into the model's parameter storage
/// (valid as long as the `TeacherModel` lives; hence `@unchecked Sendable`: read-only).
///
/// Parameters are stored by frequency rank (rank 0 is the most frequent value) so frequent values
/// share cache lines; the value's id in the data is a fixed permutation of its rank.
struct TeacherFieldSpec: @unchecked Sendable {
    /// Number of distinct values.
    let cardinality: Int
    /// Useful rank (0: noise field).
    let rank: Int
    /// Draws the frequency rank of a row's value.
    let zipf: ZipfSampler
    /// Fraction of rows where the field is missing.
    let missingRate: Double
    /// `missingRate` as a threshold on a 64-bit random number (0: never missing).
    let missingThreshold: UInt64
    /// Multiplier of the rank-to-id permutation (coprime with `cardinality`).
    let multiplier: UInt64
    /// Offset of the rank-to-id permutation.
    let offset: UInt64
    /// Per-field salt xored into the id before the 32-bit mix that makes its hex string.
    let salt: UInt32
    /// Scale of the field's first-order weights.
    let weightScale: Double
    /// Scale of the field's vectors.
    let vectorScale: Double
    /// Parameters by rank, one row of `rank + 1` floats a value: its first-order weight, then its
    /// vector's coordinates in the field's subspace (one cache miss fetches both; unused for
    /// noise fields).
    let rows: UnsafePointer<Float>
    /// Orthonormal basis of the field's subspace: `rank` rows of `TeacherModel.dimension`.
    let basis: UnsafePointer<Float>

    /// The id (0..<cardinality) of the value with frequency rank `k`.
    @inline(__always)
    func id(ofRank k: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: (multiplier &* UInt64(k) &+ offset) % UInt64(cardinality))
    }

    /// The 32-bit code printed as 8 hex digits for `id`: a bijection of the id.
    @inline(__always)
    func code(ofID id: UInt32) -> UInt32 { TeacherFieldSpec.mix(id ^ salt) }

    /// MurmurHash3's 32-bit finaliser: a bijection (xor-shifts and odd multipliers are invertible).
    @inline(__always)
    static func mix(_ value: UInt32) -> UInt32 {
        var h = value
        h ^= h >> 16
        h &*= 0x85EB_CA6B
        h ^= h >> 13
        h &*= 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    /// The inverse of `mix`, to show (and test) that codes never collide.
    static func unmix(_ value: UInt32) -> UInt32 {
        var h = value
        h ^= h >> 16
        h &*= inverse(0xC2B2_AE35)
        h ^= (h >> 13) ^ (h >> 26)
        h &*= inverse(0x85EB_CA6B)
        h ^= h >> 16
        return h
    }

    /// The multiplicative inverse of an odd number modulo 2^32 (Newton's iteration).
    static func inverse(_ a: UInt32) -> UInt32 {
        var x = a
        for _ in 0..<5 { x = x &* (2 &- a &* x) }
        return x
    }
}

/// Per-thread working memory for drawing and scoring one row (no allocation per row).
final class TeacherScratch {
    /// Dense values of the row; `TeacherModel.missingDense` when missing.
    let dense: UnsafeMutablePointer<Int64>
    /// Frequency rank of each categorical value; -1 when missing.
    let ranks: UnsafeMutablePointer<Int32>
    /// The teacher MLP's input (transformed dense, pooled vector, zero padding).
    let inputs: UnsafeMutablePointer<Float>
    /// Standard normal draws of the row.
    let gaussians: UnsafeMutablePointer<Double>

    init(fields: Int) {
        dense = .allocate(capacity: TeacherConfiguration.denseCount)
        dense.initialize(repeating: 0, count: TeacherConfiguration.denseCount)
        ranks = .allocate(capacity: max(fields, 1))
        ranks.initialize(repeating: 0, count: max(fields, 1))
        inputs = .allocate(capacity: TeacherModel.mlpInputs)
        inputs.initialize(repeating: 0, count: TeacherModel.mlpInputs)
        gaussians = .allocate(capacity: TeacherModel.gaussiansPerRow)
        gaussians.initialize(repeating: 0, count: TeacherModel.gaussiansPerRow)
    }

    deinit {
        dense.deallocate()
        ranks.deallocate()
        inputs.deallocate()
        gaussians.deallocate()
    }
}

/// The logit components of one row, before scaling.
struct TeacherComponents {
    /// Sum of first-order weights (categorical) and linear dense terms.
    var firstOrder: Float
    /// The FM pairwise term `sum_{f<g} <v_f, v_g>`.
    var pairwise: Float
    /// The small MLP's output.
    var mlp: Float
}

/// The hidden click model of the synthetic data and the sampler of its rows.
///
/// For each row: dense counts are log-normal; each categorical field's value has a Zipf-
/// distributed frequency rank; the click logit is
/// `bias + a1 * (sum_f w_f[id] + sum_j beta_j t_j) + a2 * sum_{f<g} <v_f, v_g> + a3 * MLP(t, pooled v)`,
/// where `t` are the standardised `log(1 + x)` dense values, each field's vectors `v_f` live in a
/// random `rank_f`-dimensional subspace of R^32, and noise fields have no weight and no vector.
/// `a1..a3` give the three parts 45%, 35% and 20% of the logit's variance (an absent part's
/// share, e.g. the pairwise term when every field is noise, goes to the others) and a total
/// standard deviation of `logitStandardDeviation`; the bias is bisected so the mean click
/// probability is `targetClickRate`. Both are measured on a calibration sample drawn from the
/// teacher's own random stream, so everything is deterministic.
///
/// Parameters are drawn per field from `SeededRandom(seed: teacherSeed, stream: field)` (in
/// parallel), the dense columns and MLP from another stream, the calibration sample from a
/// third; `teacherSeed` is derived from the seed so it never coincides with the row streams.
final class TeacherModel: @unchecked Sendable {
    /// Dimension of the teacher's embedding space (the largest useful rank).
    static let dimension = 32
    /// Hidden units of the teacher's MLP.
    static let hidden = 16
    /// MLP input width: 13 dense + 32 pooled, padded to a multiple of 8.
    static let mlpInputs = 48
    /// Standard normal draws per row (13 used, drawn in pairs).
    static let gaussiansPerRow = 14
    /// Marks a missing dense value in `TeacherScratch.dense`.
    static let missingDense = Int64.min
    /// Largest dense value written.
    static let maximumDense: Int64 = 999_999_999
    /// Variance shares of first-order, pairwise and MLP parts of the logit.
    static let shares: (firstOrder: Double, pairwise: Double, mlp: Double) = (0.45, 0.35, 0.20)

    /// Log-normal profiles of I1..I13 (log mean, log standard deviation, offset, used by the
    /// teacher), shaped after Criteo's columns: mostly small counts, I5 large, I10 and I12
    /// mostly zero, I2 with small negatives. I4, I9 and I12 are noise.
    static let denseProfiles: [(logMean: Double, logStd: Double, offset: Int64, signal: Bool)] = [
        (0.3, 1.4, 0, true), (3.5, 1.6, -3, true), (1.8, 1.5, 0, true), (1.4, 1.0, 0, false),
        (7.5, 1.8, 0, true), (3.2, 1.6, 0, true), (1.2, 1.5, 0, true), (2.2, 1.0, 0, true),
        (3.6, 1.4, 0, false), (-0.3, 0.9, 0, true), (0.6, 1.1, 0, true), (-1.0, 1.3, 0, false),
        (1.6, 1.1, 0, true),
    ]

    let configuration: TeacherConfiguration
    /// Categorical fields (Swift copy, for reports).
    let fieldList: [TeacherFieldSpec]
    /// Dense columns.
    let denseList: [TeacherDenseSpec]

    /// Categorical fields, for the hot loop.
    let fieldSpecs: UnsafeMutableBufferPointer<TeacherFieldSpec>
    private let denseSpecs: UnsafeMutableBufferPointer<TeacherDenseSpec>
    private let parameters: UnsafeMutablePointer<Float>
    private let aliasTables: UnsafeMutablePointer<UInt64>
    /// Dense linear weights (13), W1 (16 x 48), b1 (16), w2 (16), dense centre (13), dense
    /// inverse scale (13).
    private let small: UnsafeMutablePointer<Float>
    private let denseLinear: UnsafeMutablePointer<Float>
    private let w1: UnsafeMutablePointer<Float>
    private let b1: UnsafeMutablePointer<Float>
    private let w2: UnsafeMutablePointer<Float>
    private let denseCentre: UnsafeMutablePointer<Float>
    private let denseInverseScale: UnsafeMutablePointer<Float>
    private let pooledScale: Float
    /// `log(1 + v)` for small dense values (most of them), as Float.
    private let log1pTable: UnsafeMutablePointer<Float>
    /// Entries of `log1pTable`.
    static let log1pTableSize = 4096

    /// Calibrated bias of the logit.
    private(set) var bias = 0.0
    /// Calibrated scales of the three parts.
    private(set) var scales: (firstOrder: Double, pairwise: Double, mlp: Double) = (0, 0, 0)
    /// Standard deviations of the unscaled parts on the calibration sample.
    private(set) var rawStandardDeviations: (firstOrder: Double, pairwise: Double, mlp: Double) = (0, 0, 0)

    /// Draws the teacher from `configuration.seed` (which must be valid) and calibrates it.
    init(configuration: TeacherConfiguration, threads: Int) {
        self.configuration = configuration
        let fields = configuration.fields
        let dimension = TeacherModel.dimension
        let teacherSeed = SplitMix64.mix(configuration.seed ^ 0x7EAC_4E25_EED5_0001)

        // Lay out every field's parameters in one buffer, and alias tables in another.
        var rowOffsets: [Int] = []
        var basisOffsets: [Int] = []
        var aliasOffsets: [Int] = []
        var total = 1  // index 0 is a shared zero for noise fields
        var aliasTotal = 0
        for f in 0..<fields {
            let n = configuration.cardinalities[f]
            let r = configuration.ranks[f]
            if r > 0 {
                total = (total + 15) & ~15  // 64-byte aligned starts
                rowOffsets.append(total)
                total += n * (r + 1)
                basisOffsets.append(total)
                total += r * dimension
            } else {
                rowOffsets.append(0)
                basisOffsets.append(0)
            }
            aliasOffsets.append(aliasTotal)
            aliasTotal += ZipfSampler.tableSize(count: n)
        }
        // Rows are read at random (the rare values of a large field): huge pages spare most TLB
        // misses.
        let rawParameters = UnsafeMutableRawPointer.allocate(byteCount: total * 4, alignment: 1 << 21)
        #if os(Linux)
            if total * 4 >= 1 << 21 { _ = madvise(rawParameters, total * 4, Int32(MADV_HUGEPAGE)) }
        #endif
        parameters = rawParameters.bindMemory(to: Float.self, capacity: total)
        parameters.initialize(repeating: 0, count: total)
        aliasTables = .allocate(capacity: max(aliasTotal, 1))
        aliasTables.initialize(repeating: 0, count: max(aliasTotal, 1))

        // Each field draws from its own stream, so fields can be drawn in parallel.
        let layout = (rows: rowOffsets, basis: basisOffsets, alias: aliasOffsets)
        let parameterShared = TeacherSendablePointer(parameters)
        let aliasShared = TeacherSendablePointer(aliasTables)
        let specs = SharedArray<TeacherFieldSpec?>(repeating: nil, count: fields)
        Parallel.forEach(fields, threads: threads) { f in
            let parameterBase = parameterShared.pointer
            let aliasBase = aliasShared.pointer
            specs[f] = TeacherModel.drawField(
                f, configuration: configuration, seed: teacherSeed,
                rows: parameterBase + layout.rows[f], basis: parameterBase + layout.basis[f], aliasTable: aliasBase + layout.alias[f])
        }
        let list = specs.array.compactMap { $0 }
        fieldList = list
        fieldSpecs = .allocate(capacity: max(fields, 1))
        _ = fieldSpecs.initialize(from: list)

        // Dense columns and the MLP from one more stream.
        var rng = SeededRandom(seed: teacherSeed, stream: 1 << 40)
        var dense: [TeacherDenseSpec] = []
        for profile in TeacherModel.denseProfiles {
            let rate = 0.05 + 0.35 * rng.nextUnitDouble()
            dense.append(
                TeacherDenseSpec(
                    logMean: profile.logMean, logStd: profile.logStd, offset: profile.offset,
                    signal: profile.signal, missingRate: rate, missingThreshold: TeacherModel.threshold(rate)))
        }
        denseList = dense
        denseSpecs = .allocate(capacity: dense.count)
        _ = denseSpecs.initialize(from: dense)

        let denseCount = TeacherConfiguration.denseCount
        let hidden = TeacherModel.hidden
        let inputs = TeacherModel.mlpInputs
        let smallCount = denseCount + hidden * inputs + hidden + hidden + denseCount + denseCount
        small = .allocate(capacity: smallCount)
        small.initialize(repeating: 0, count: smallCount)
        denseLinear = small
        w1 = small + denseCount
        b1 = w1 + hidden * inputs
        w2 = b1 + hidden
        denseCentre = w2 + hidden
        denseInverseScale = denseCentre + denseCount
        let usedInputs = denseCount + dimension
        for j in 0..<denseCount {
            let beta = 0.7 * rng.nextGaussian()
            denseLinear[j] = dense[j].signal ? Float(beta) : 0
        }
        let w1Scale = (2.0 / Double(usedInputs)).squareRoot()
        for k in 0..<hidden {
            for i in 0..<usedInputs {
                let w = w1Scale * rng.nextGaussian()
                let used = i >= denseCount || dense[i].signal
                w1[k * inputs + i] = used ? Float(w) : 0
            }
        }
        for k in 0..<hidden { b1[k] = Float(0.5 * rng.nextGaussian()) }
        for k in 0..<hidden { w2[k] = Float(rng.nextGaussian() / Double(hidden).squareRoot()) }
        for j in 0..<denseCount {
            denseCentre[j] = 0
            denseInverseScale[j] = 1
        }
        let signalFields = configuration.ranks.filter { $0 > 0 }.count
        pooledScale = Float(1 / Double(max(signalFields, 1)).squareRoot())
        log1pTable = .allocate(capacity: TeacherModel.log1pTableSize)
        for v in 0..<TeacherModel.log1pTableSize { log1pTable[v] = TeacherModel.transform(Int64(v)) }

        calibrate(seed: teacherSeed)
    }

    deinit {
        fieldSpecs.deinitialize()
        fieldSpecs.deallocate()
        denseSpecs.deinitialize()
        denseSpecs.deallocate()
        parameters.deallocate()
        aliasTables.deallocate()
        small.deallocate()
        log1pTable.deallocate()
    }

    /// The teacher's view of a present dense value: `log(1 + max(v, 0))`.
    @inline(__always)
    static func transform(_ v: Int64) -> Float { Float(_log1p(Double(max(v, 0)))) }

    /// `transform(v)`, from the table for small values.
    @inline(__always)
    private func transformed(_ v: Int64) -> Float {
        if v >= 0 && v < Int64(TeacherModel.log1pTableSize) { return log1pTable[Int(v)] }
        return TeacherModel.transform(v)
    }

    /// A missing rate as a threshold on a 64-bit random number.
    static func threshold(_ rate: Double) -> UInt64 {
        if rate <= 0 { return 0 }
        return UInt64(min(rate, 0.999_999) * 18_446_744_073_709_551_616.0)
    }

    private static func drawField(
        _ f: Int, configuration: TeacherConfiguration, seed: UInt64,
        rows: UnsafeMutablePointer<Float>,
        basis: UnsafeMutablePointer<Float>, aliasTable: UnsafeMutablePointer<UInt64>
    ) -> TeacherFieldSpec {
        var rng = SeededRandom(seed: seed, stream: UInt64(f))
        let n = configuration.cardinalities[f]
        let r = configuration.ranks[f]
        let exponent = 1.05 + 0.15 * rng.nextUnitDouble()
        let hasMissing = rng.nextUnitDouble() < 0.25
        let rate = 0.02 + 0.38 * rng.nextUnitDouble()
        let missingRate = hasMissing ? rate : 0
        let salt = UInt32(truncatingIfNeeded: rng.next())
        var multiplier: UInt64 = 1
        if n > 2 {
            repeat {
                multiplier = 1 + rng.next() % UInt64(n - 1)
            } while gcd(multiplier, UInt64(n)) != 1
        }
        let offset = rng.next() % UInt64(n)
        let weightScale = 0.5 + rng.nextUnitDouble()
        let vectorScale = 0.5 + rng.nextUnitDouble()
        let zipf = ZipfSampler(
            count: n, exponent: exponent,
            table: ZipfSampler.tableSize(count: n) > 0 ? aliasTable : nil)
        if r > 0 {
            let stride = r + 1
            fillGaussian(count: n, scale: weightScale, rng: &rng) { i, value in rows[i * stride] = value }
            // An orthonormal basis of a random r-dimensional subspace (Gram-Schmidt).
            let d = dimension
            var axes = [Double](repeating: 0, count: r * d)
            for i in 0..<(r * d) { axes[i] = rng.nextGaussian() }
            for i in 0..<r {
                for p in 0..<i {
                    var dot = 0.0
                    for c in 0..<d { dot += axes[i * d + c] * axes[p * d + c] }
                    for c in 0..<d { axes[i * d + c] -= dot * axes[p * d + c] }
                }
                var norm = 0.0
                for c in 0..<d { norm += axes[i * d + c] * axes[i * d + c] }
                let inverse = 1 / max(norm.squareRoot(), 1e-12)
                for c in 0..<d { basis[i * d + c] = Float(axes[i * d + c] * inverse) }
                for c in 0..<d { axes[i * d + c] *= inverse }
            }
            fillGaussian(count: n * r, scale: vectorScale / Double(r).squareRoot(), rng: &rng) { i, value in
                let (k, j) = i.quotientAndRemainder(dividingBy: r)
                rows[k * stride + 1 + j] = value
            }
        }
        return TeacherFieldSpec(
            cardinality: n, rank: r, zipf: zipf, missingRate: missingRate,
            missingThreshold: threshold(missingRate), multiplier: multiplier, offset: offset,
            salt: salt, weightScale: weightScale, vectorScale: vectorScale,
            rows: UnsafePointer(rows), basis: UnsafePointer(basis))
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var x = a
        var y = b
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// Stores `count` scaled standard normals through `store(index, value)` (both of each polar
    /// pair used).
    @inline(__always)
    private static func fillGaussian(
        count: Int, scale: Double, rng: inout SeededRandom,
        _ store: (Int, Float) -> Void
    ) {
        var i = 0
        while i < count {
            let (a, b) = gaussianPair(&rng)
            store(i, Float(a * scale))
            if i + 1 < count { store(i + 1, Float(b * scale)) }
            i += 2
        }
    }

    /// Two independent standard normals (Marsaglia's polar method: one logarithm, no
    /// trigonometry; a pair is redrawn about 21% of the time).
    @inline(__always)
    static func gaussianPair(_ rng: inout SeededRandom) -> (Double, Double) {
        while true {
            let u = Double(Int64(bitPattern: rng.next()) >> 11) * 0x1.0p-52  // [-1, 1)
            let v = Double(Int64(bitPattern: rng.next()) >> 11) * 0x1.0p-52
            let s = u * u + v * v
            if s < 1 && s > 0 {
                let factor = (-2 * _log(s) / s).squareRoot()
                return (u * factor, v * factor)
            }
        }
    }

    // MARK: Rows

    /// Draws one row's features into `scratch`.
    @inline(__always)
    func drawRow(_ rng: inout SeededRandom, into scratch: TeacherScratch) {
        let g = scratch.gaussians
        var i = 0
        while i < TeacherModel.gaussiansPerRow {
            let (a, b) = TeacherModel.gaussianPair(&rng)
            g[i] = a
            g[i + 1] = b
            i += 2
        }
        let dense = scratch.dense
        for j in 0..<TeacherConfiguration.denseCount {
            let spec = denseSpecs[j]
            if spec.missingThreshold > 0 && rng.next() < spec.missingThreshold {
                dense[j] = TeacherModel.missingDense
                continue
            }
            let x = _exp(spec.logMean + spec.logStd * g[j])
            let v: Int64 = x < Double(TeacherModel.maximumDense) ? Int64(x) : TeacherModel.maximumDense
            dense[j] = v + spec.offset
        }
        let ranks = scratch.ranks
        for f in 0..<fieldSpecs.count {
            let spec = fieldSpecs[f]
            if spec.missingThreshold > 0 && rng.next() < spec.missingThreshold {
                ranks[f] = -1
                continue
            }
            ranks[f] = Int32(truncatingIfNeeded: spec.zipf.sample(&rng))
        }
    }

    /// The unscaled logit parts of the row in `scratch`.
    @inline(__always)
    func components(of scratch: TeacherScratch) -> TeacherComponents {
        let x = scratch.inputs
        var first: Float = 0
        for j in 0..<TeacherConfiguration.denseCount {
            let v = scratch.dense[j]
            var t: Float = 0
            if v != TeacherModel.missingDense {
                t = (transformed(v) - denseCentre[j]) * denseInverseScale[j]
            }
            x[j] = t
            first += denseLinear[j] * t
        }
        // Pass 1: first-order weights and squared norms. Its loads (mostly cache misses into
        // large tables) are independent, so they overlap; pass 2 then finds the rows in cache.
        var squares: Float = 0
        for f in 0..<fieldSpecs.count {
            let spec = fieldSpecs[f]
            let r = spec.rank
            let k = Int(scratch.ranks[f])
            if r == 0 || k < 0 { continue }
            let row = spec.rows + k * (r + 1)
            first += row[0]
            for j in 1...r { squares += row[j] * row[j] }
        }
        // Pass 2: the sum of the fields' vectors in the common space.
        var s0 = SIMD8<Float>.zero
        var s1 = SIMD8<Float>.zero
        var s2 = SIMD8<Float>.zero
        var s3 = SIMD8<Float>.zero
        for f in 0..<fieldSpecs.count {
            let spec = fieldSpecs[f]
            let r = spec.rank
            let k = Int(scratch.ranks[f])
            if r == 0 || k < 0 { continue }
            let u = spec.rows + k * (r + 1) + 1
            var column = UnsafeRawPointer(spec.basis)
            for j in 0..<r {
                let c = u[j]
                s0 += c * column.loadUnaligned(fromByteOffset: 0, as: SIMD8<Float>.self)
                s1 += c * column.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                s2 += c * column.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                s3 += c * column.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
                column += 128
            }
        }
        let norm = (s0 * s0 + s1 * s1 + s2 * s2 + s3 * s3).sum()
        let pairwise = 0.5 * (norm - squares)
        let pooled = UnsafeMutableRawPointer(x + TeacherConfiguration.denseCount)
        let scale = pooledScale
        pooled.storeBytes(of: s0 * scale, toByteOffset: 0, as: SIMD8<Float>.self)
        pooled.storeBytes(of: s1 * scale, toByteOffset: 32, as: SIMD8<Float>.self)
        pooled.storeBytes(of: s2 * scale, toByteOffset: 64, as: SIMD8<Float>.self)
        pooled.storeBytes(of: s3 * scale, toByteOffset: 96, as: SIMD8<Float>.self)
        var out: Float = 0
        let inputs = UnsafeRawPointer(x)
        for k in 0..<TeacherModel.hidden {
            let row = UnsafeRawPointer(w1 + k * TeacherModel.mlpInputs)
            var acc = SIMD8<Float>.zero
            var offset = 0
            while offset < TeacherModel.mlpInputs * 4 {
                acc +=
                    row.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    * inputs.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                offset += 32
            }
            let h = max(acc.sum() + b1[k], 0)
            out += w2[k] * h
        }
        return TeacherComponents(firstOrder: first, pairwise: pairwise, mlp: out)
    }

    /// The calibrated logit of a row's parts.
    @inline(__always)
    func logit(_ c: TeacherComponents) -> Double {
        bias + scales.firstOrder * Double(c.firstOrder) + scales.pairwise * Double(c.pairwise)
            + scales.mlp * Double(c.mlp)
    }

    /// The click probability of a row's parts.
    @inline(__always)
    func probability(_ c: TeacherComponents) -> Double {
        1 / (1 + _exp(-logit(c)))
    }

    // MARK: Calibration

    private func calibrate(seed: UInt64) {
        let n = configuration.calibrationRows
        let fields = configuration.fields
        let denseCount = TeacherConfiguration.denseCount
        var rng = SeededRandom(seed: seed, stream: 1 << 41)
        let scratch = TeacherScratch(fields: fields)
        var denseRows = [Int64](repeating: 0, count: n * denseCount)
        var rankRows = [Int32](repeating: 0, count: n * max(fields, 1))
        for i in 0..<n {
            drawRow(&rng, into: scratch)
            for j in 0..<denseCount { denseRows[i * denseCount + j] = scratch.dense[j] }
            for f in 0..<fields { rankRows[i * fields + f] = scratch.ranks[f] }
        }
        // Standardise log(1 + x) of each dense column over its present values.
        for j in 0..<denseCount {
            var sum = 0.0
            var sumSquares = 0.0
            var present = 0.0
            for i in 0..<n {
                let v = denseRows[i * denseCount + j]
                if v == TeacherModel.missingDense { continue }
                let t = Double(TeacherModel.transform(v))
                sum += t
                sumSquares += t * t
                present += 1
            }
            if present >= 2 {
                let mean = sum / present
                let variance = max(sumSquares / present - mean * mean, 0)
                denseCentre[j] = Float(mean)
                denseInverseScale[j] = Float(1 / max(variance.squareRoot(), 1e-3))
            }
        }
        var parts = [TeacherComponents](repeating: TeacherComponents(firstOrder: 0, pairwise: 0, mlp: 0), count: n)
        for i in 0..<n {
            for j in 0..<denseCount { scratch.dense[j] = denseRows[i * denseCount + j] }
            for f in 0..<fields { scratch.ranks[f] = rankRows[i * fields + f] }
            parts[i] = components(of: scratch)
        }
        func deviation(_ value: (TeacherComponents) -> Float) -> Double {
            var sum = 0.0
            var sumSquares = 0.0
            for p in parts {
                let v = Double(value(p))
                sum += v
                sumSquares += v * v
            }
            let mean = sum / Double(n)
            return max(sumSquares / Double(n) - mean * mean, 0).squareRoot()
        }
        let deviations = (deviation { $0.firstOrder }, deviation { $0.pairwise }, deviation { $0.mlp })
        rawStandardDeviations = deviations
        let shares = TeacherModel.shares
        let present = (deviations.0 > 1e-9, deviations.1 > 1e-9, deviations.2 > 1e-9)
        let shareTotal =
            (present.0 ? shares.firstOrder : 0) + (present.1 ? shares.pairwise : 0)
            + (present.2 ? shares.mlp : 0)
        let sigma = configuration.logitStandardDeviation
        func scale(_ isPresent: Bool, _ share: Double, _ deviation: Double) -> Double {
            guard isPresent, shareTotal > 0 else { return 0 }
            return sigma * (share / shareTotal).squareRoot() / deviation
        }
        scales = (
            scale(present.0, shares.firstOrder, deviations.0),
            scale(present.1, shares.pairwise, deviations.1),
            scale(present.2, shares.mlp, deviations.2)
        )
        // Bisect the bias so that the mean click probability is the target.
        let raw = parts.map {
            scales.firstOrder * Double($0.firstOrder) + scales.pairwise * Double($0.pairwise)
                + scales.mlp * Double($0.mlp)
        }
        var low = -40.0
        var high = 40.0
        for _ in 0..<100 {
            let middle = 0.5 * (low + high)
            var sum = 0.0
            for z in raw { sum += 1 / (1 + _exp(-(middle + z))) }
            if sum / Double(n) < configuration.targetClickRate { low = middle } else { high = middle }
        }
        bias = 0.5 * (low + high)
    }
}

/// A pointer carried into a parallel region whose items write disjoint parts of it.
struct TeacherSendablePointer<T>: @unchecked Sendable {
    /// The pointer.
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
