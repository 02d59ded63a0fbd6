import CompactRecData

extension Matrix {
    /// Copies `source` into columns `offset ..< offset + source.columns` of this matrix (same
    /// rows): how models concatenate embeddings, dense features and interaction outputs.
    public mutating func setColumns(_ offset: Int, from source: Matrix) {
        precondition(source.rows == rows && offset + source.columns <= columns, "setColumns: shapes do not fit")
        let (width, sourceWidth, n) = (columns, source.columns, rows)
        withUnsafeMutableBufferPointer { out in
            source.withUnsafeBufferPointer { input in
                for r in 0..<n {
                    for c in 0..<sourceWidth { out[r * width + offset + c] = input[r * sourceWidth + c] }
                }
            }
        }
    }

    /// Copies columns `offset ..< offset + destination.columns` of this matrix into
    /// `destination` (resized to this matrix's rows): how models split a concatenation's gradient.
    public func copyColumns(_ offset: Int, into destination: inout Matrix) {
        destination.resize(rows: rows)
        let (width, targetWidth, n) = (columns, destination.columns, rows)
        precondition(offset + targetWidth <= width, "copyColumns: range outside the matrix")
        withUnsafeBufferPointer { input in
            destination.withUnsafeMutableBufferPointer { out in
                for r in 0..<n {
                    for c in 0..<targetWidth { out[r * targetWidth + c] = input[r * width + offset + c] }
                }
            }
        }
    }

    /// Adds columns `offset ..< offset + destination.columns` of this matrix to `destination`.
    public func addColumns(_ offset: Int, to destination: inout Matrix) {
        precondition(destination.rows == rows && offset + destination.columns <= columns, "addColumns: shapes do not fit")
        let (width, targetWidth, n) = (columns, destination.columns, rows)
        withUnsafeBufferPointer { input in
            destination.withUnsafeMutableBufferPointer { out in
                for r in 0..<n {
                    for c in 0..<targetWidth { out[r * targetWidth + c] += input[r * width + offset + c] }
                }
            }
        }
    }
}
