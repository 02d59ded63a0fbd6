import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal HTTP/1.1 client over a loopback TCP socket, for the server tests: one request per
/// connection (`Connection: close`), the response read to the end, `Content-Length` or chunked
/// bodies. The tests need nothing more, and a full client (AsyncHTTPClient) would add SwiftNIO's
/// TLS and HTTP/2 packages to every test build. Each socket has a 30 s receive and send
/// timeout, so a test can fail but never hang. The blocking socket calls run on a Dispatch
/// thread, never on Swift's cooperative pool.
enum HTTPTestClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Status and body of a GET to `path` (or, with `body`, a POST of JSON) on 127.0.0.1:`port`.
    static func request(port: Int, path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try requestBlocking(port: port, path: path, body: body) })
            }
        }
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    static func accepts(port: Int) -> Bool {
        guard let socket = try? connect(port: port) else { return false }
        close(socket)
        return true
    }

    private static func requestBlocking(port: Int, path: String, body: String?) throws -> (status: Int, body: String) {
        let socket = try connect(port: port)
        defer { close(socket) }
        var head = "\(body == nil ? "GET" : "POST") \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        let payload = Array((body ?? "").utf8)
        if body != nil { head += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + payload
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // A server may answer and close before reading a refused body (413): read what it said.
            guard n > 0 else { break }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else {
                if !response.isEmpty { break }  // reset after answering, as above
                throw Failure(description: "receive failed or timed out: errno \(errno)")
            }
            response += buffer[0..<n]
        }
        return try parse(response)
    }

    private static func connect(port: Int) throws -> Int32 {
        #if canImport(Glibc)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw Failure(description: "socket failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                    Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                    Darwin.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "connect to port \(port) failed: errno \(errno)")
        }
        return socket
    }

    /// The status code and body of a whole HTTP/1.1 response.
    static func parse(_ response: [UInt8]) throws -> (status: Int, body: String) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard response.count >= separator.count,
            let end = (0...(response.count - separator.count)).first(where: { response[$0..<$0 + separator.count].elementsEqual(separator) }
            )
        else { throw Failure(description: "no end of headers in \(response.count) bytes") }
        let head = String(decoding: response[..<end], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line: \(lines[0])") }
        let headers = lines.dropFirst().map { $0.lowercased() }
        var body = Array(response[(end + separator.count)...])
        if headers.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            body = try dechunk(body)
        }
        return (status, String(decoding: body, as: UTF8.self))
    }

    /// The payload of a chunked body.
    private static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
                throw Failure(description: "truncated chunked body")
            }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0, size <= bytes.count else {
                throw Failure(description: "bad chunk size \(sizeText)")
            }
            index = lineEnd + 2
            if size == 0 { return output }
            guard index + size <= bytes.count else { throw Failure(description: "truncated chunk") }
            output += bytes[index..<index + size]
            index += size + 2
        }
    }
}
