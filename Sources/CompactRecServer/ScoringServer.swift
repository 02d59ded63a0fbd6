import CompactRec
import CompactRecData
import CompactRecInference
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The HTTP scoring server (`compactrec serve`) on Hummingbird:
/// - `POST /v1/predict` takes `{"rows": [{"C1": "68fd1e64", "I1": 5, ...}, ...]}` and returns
///   `{"scores": [...]}`, the click probability of each row, as `predict` computes it;
/// - `GET /v1/model` describes the model (fields, widths, sizes, provenance, limits);
/// - `GET /health` answers `{"status":"ok"}` while the server runs.
///
/// A body that is not JSON, a value of the wrong type or an unknown field name is answered 400,
/// a body or row count over the limits 413, each with `{"error": {"message": ...}}`; nothing a
/// client sends can stop the server. Requests are logged with swift-log (errors at `info`,
/// scored requests at `debug`); SIGINT and SIGTERM stop it gracefully, finishing the requests
/// in flight.
public struct ScoringServer: Sendable {
    /// The model.
    public let predictor: Predictor
    /// The model file's path (reported by `GET /v1/model`).
    public let modelPath: String
    /// Address and limits.
    public let configuration: ScoringServerConfiguration
    /// Where the server logs.
    public let logger: Logger

    /// A server for `predictor`, loaded from `modelPath`.
    public init(predictor: Predictor, modelPath: String, configuration: ScoringServerConfiguration = .init(), logger: Logger) {
        self.predictor = predictor
        self.modelPath = modelPath
        self.configuration = configuration
        self.logger = logger
    }

    /// The Hummingbird application, to run as a service (`runService()`, or in a
    /// `ServiceGroup`); `onReady` is called with the bound port once it accepts connections.
    public func application(onReady: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = Router()
        let description = try ScoringServer.json(
            ModelDescription(predictor: predictor, path: modelPath, configuration: configuration),
            snakeCase: true)
        router.get("health") { _, _ in ScoringServer.response(Array(#"{"status":"ok"}"#.utf8)) }
        router.get("v1/model") { _, _ in ScoringServer.response(description) }
        router.post("v1/predict") { request, context in try await self.predict(request, context: context) }
        let logger = self.logger
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "compactrec"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("serving", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "port": "\(port)"])
                await onReady(port)
            },
            logger: logger
        )
    }

    /// Runs until SIGINT or SIGTERM, then stops gracefully.
    public func run(onReady: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) async throws {
        try await application(onReady: onReady).runService(gracefulShutdownSignals: [.sigterm, .sigint])
        logger.info("stopped")
    }

    /// `POST /v1/predict`.
    func predict(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        do {
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: configuration.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                throw ScoringFailure.tooLarge("the body is larger than \(configuration.maxBodyBytes) bytes; send fewer rows per request")
            }
            let rows = try ScoringRequest.decode(Data(body.readableBytesView), schema: predictor.file.header.schema).rows
            guard rows.count <= configuration.maxRows else {
                throw ScoringFailure.tooLarge("\(rows.count) rows; this server scores at most \(configuration.maxRows) per request")
            }
            let scores: [Float]
            do { scores = try predictor.probabilities(named: rows) } catch {
                if case .nonFiniteScore = error {
                    context.logger.error("non-finite score", metadata: ["reason": "\(error.localizedDescription)"])
                    throw HTTPError(.internalServerError, message: error.localizedDescription)
                }
                throw ScoringFailure.badRequest(error.localizedDescription)
            }
            let response = ScoringServer.response(try ScoringServer.json(Scores(scores: scores), snakeCase: false))
            context.logger.debug("scored", metadata: ["rows": "\(rows.count)", "ms": "\(ScoringServer.milliseconds(since: started))"])
            return response
        } catch let failure as ScoringFailure {
            let (status, message): (HTTPResponse.Status, String) =
                switch failure {
                case .badRequest(let message): (.badRequest, message)
                case .tooLarge(let message): (.contentTooLarge, message)
                }
            context.logger.info("refused", metadata: ["status": "\(status.code)", "reason": "\(message)"])
            throw HTTPError(status, message: message)
        }
    }

    /// `{"scores": [...]}`.
    private struct Scores: Encodable {
        var scores: [Float]
    }

    /// A 200 response with a JSON body.
    static func response(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: some Encodable, snakeCase: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return Array(try encoder.encode(value))
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
        return String(format: "%.3f", ms)
    }
}
