#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Rewrites a column of provisional category ids in place with final ids, block by block on
/// all threads, counting missing and OOV rows and checksumming the result.
struct IDRemapper {
    let threads: Int

    /// What remapping found.
    struct Counts {
        /// Rows with the missing id, per field.
        var missing: [Int]
        /// Rows with the OOV id, per field and split part (all in part 0 without a parts file).
        var oov: [[Int]]
        /// XXH64 of the final data section.
        var checksum: UInt64
    }

    private struct Tally: Sendable {
        var missing: [Int]
        var oov: [[Int]]
    }

    private struct Window: @unchecked Sendable {
        let ids: UnsafeMutableBufferPointer<UInt32>
        let parts: UnsafeBufferPointer<UInt8>?
    }

    /// Remaps the `width`-wide UInt32 column at `path`; `partsPath`, if given, is the split
    /// column used to count OOV rows per part.
    func remap(
        path: String, partsPath: String?, width: Int, remaps: [[UInt32]],
        progress: ((Int, Int) -> Void)?
    ) throws(DataError) -> Counts {
        var tally = Tally(
            missing: [Int](repeating: 0, count: width),
            oov: [[Int]](repeating: [0, 0, 0], count: width))
        var hasher = XXHash64()
        guard width > 0 else { return Counts(missing: [], oov: [], checksum: hasher.finalize()) }
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let partsFD = partsPath.map { open($0, O_RDONLY) } ?? -1
        defer { if partsFD >= 0 { close(partsFD) } }
        var info = stat()
        fstat(fd, &info)
        let rows = (Int(info.st_size) - ColumnHeader.size) / (width * 4)
        let blockRows = max(1, (16 << 20) / (width * 4))
        var ids = [UInt32](repeating: 0, count: blockRows * width)
        var parts = [UInt8](repeating: 0, count: blockRows)
        var row = 0
        while row < rows {
            let count = min(blockRows, rows - row)
            let byteCount = count * width * 4
            let offset = off_t(ColumnHeader.size + row * width * 4)
            let got = ids.withUnsafeMutableBytes { pread(fd, $0.baseAddress, byteCount, offset) }
            guard got == byteCount else { throw .writeFailed(path: path, reason: "short read while remapping ids") }
            if partsFD >= 0 {
                let gotParts = parts.withUnsafeMutableBytes { pread(partsFD, $0.baseAddress, count, off_t(ColumnHeader.size + row)) }
                guard gotParts == count else { throw .writeFailed(path: partsPath ?? path, reason: "short read of split parts") }
            }
            let tallies: [Tally] = ids.withUnsafeMutableBufferPointer { idBuffer in
                parts.withUnsafeBufferPointer { partBuffer in
                    let window = Window(ids: idBuffer, parts: partsFD >= 0 ? partBuffer : nil)
                    return Parallel.map(threads, threads: threads) { worker in
                        var local = Tally(missing: [Int](repeating: 0, count: width), oov: [[Int]](repeating: [0, 0, 0], count: width))
                        let start = worker * count / threads
                        let end = (worker + 1) * count / threads
                        for r in start..<end {
                            let part = window.parts.map { Int($0[r]) } ?? 0
                            for f in 0..<width {
                                let slot = r * width + f
                                let final = remaps[f][Int(window.ids[slot])]
                                window.ids[slot] = final
                                if final == Vocabulary.missingID {
                                    local.missing[f] += 1
                                } else if final == Vocabulary.oovID {
                                    local.oov[f][part] += 1
                                }
                            }
                        }
                        return local
                    }
                }
            }
            for local in tallies {
                for f in 0..<width {
                    tally.missing[f] += local.missing[f]
                    for p in 0..<3 { tally.oov[f][p] += local.oov[f][p] }
                }
            }
            let written = ids.withUnsafeBytes { raw -> Int in
                hasher.update(UnsafeRawBufferPointer(rebasing: raw[0..<byteCount]))
                return pwrite(fd, raw.baseAddress, byteCount, offset)
            }
            guard written == byteCount else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
            row += count
            progress?(row, rows)
        }
        return Counts(missing: tally.missing, oov: tally.oov, checksum: hasher.finalize())
    }
}
