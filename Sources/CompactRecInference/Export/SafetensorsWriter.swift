import CompactRec
import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Writes the safetensors format (the `safetensors` Python package's): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, then the
/// tensors' bytes back to back. All tensors here are little-endian Float32 (`F32`).
struct SafetensorsWriter {
    /// One named tensor.
    struct Tensor {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    private(set) var tensors: [Tensor] = []

    /// Adds a tensor; `values.count` must be the product of `shape`.
    mutating func add(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "safetensors: \(name) has \(values.count) values for shape \(shape)")
        precondition(!tensors.contains { $0.name == name }, "safetensors: \(name) is added twice")
        tensors.append(Tensor(name: name, shape: shape, values: values))
    }

    /// Bytes of the tensors' data.
    var dataBytes: Int { tensors.reduce(0) { $0 + 4 * $1.values.count } }

    /// Writes the file atomically, with `metadata` in the header's `__metadata__`.
    func write(to path: String, metadata: [String: String]) throws(ModelFileError) {
        var entries: [String] = []
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.values.count
            entries.append(
                "\(SafetensorsWriter.quoted(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map { String($0) }.joined(separator: ","))],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        let meta = metadata.sorted { $0.key < $1.key }.map { "\(SafetensorsWriter.quoted($0.key)):\(SafetensorsWriter.quoted($0.value))" }
        entries.insert("\"__metadata__\":{\(meta.joined(separator: ","))}", at: 0)
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        // The data starts 8-byte aligned (padding with spaces, as the reference writer does).
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        do {
            let writer = try AtomicFileWriter(path: path)
            var prefix = ByteWriter()
            prefix.append(UInt64(header.count))
            try writer.append(prefix.bytes + header)
            for tensor in tensors {
                var bytes = ByteWriter()
                bytes.append(floats: tensor.values)
                try writer.append(bytes.bytes)
            }
            try writer.commit()
        } catch {
            throw .writeFailed(path: path, reason: error.localizedDescription)
        }
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
