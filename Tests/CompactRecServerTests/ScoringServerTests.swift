import CompactRec
import CompactRecData
import CompactRecInference
import CompactRecTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import CompactRecServer

/// The scoring server over real HTTP: started on an ephemeral port (readiness from the server's
/// own signal), queried with `HTTPTestClient`, stopped gracefully.
@Suite struct ScoringServerTests {
    @Test func scoresOverHTTPEqualPredictAndBadRequestsGet4xx() async throws {
        let trained = try TrainedModel(TrainedModel.deepFM, rows: 5000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        let lines = try String(contentsOfFile: trained.rawFile, encoding: .utf8).split(separator: "\n").prefix(100).joined(separator: "\n")
        try (lines + "\n").write(toFile: trained.directory + "/first100.tsv", atomically: true, encoding: .utf8)
        _ = try FilePrediction.run(predictor, input: trained.directory + "/first100.tsv", output: trained.directory + "/first100.csv")
        let predicted = try String(contentsOfFile: trained.directory + "/first100.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Float($0) } }
        #expect(predicted.count == 100)
        let rows = try trained.namedRows(100)
        let embeddingParameters = trained.modelFile.header.embeddingParameters

        let server = ScoringServer(
            predictor: predictor, modelPath: trained.modelPath,
            configuration: .init(host: "127.0.0.1", port: 0, maxRows: 100, maxBodyBytes: 64 << 10),
            logger: Logger(label: "test.serve"))
        try await Self.running(server) { port in
            let health = try await Self.request(port, "/health")
            #expect(health.status == 200 && health.body == #"{"status":"ok"}"#)

            let model = try await Self.request(port, "/v1/model")
            #expect(model.status == 200)
            let description = try #require(try JSONSerialization.jsonObject(with: Data(model.body.utf8)) as? [String: Any])
            #expect(description["embedding_parameters"] as? Int == embeddingParameters)
            #expect((description["fields"] as? [Any])?.count == 21)
            #expect(description["max_rows"] as? Int == 100)

            // One row, then 100, then many at once: the scores `predict` wrote.
            let one = try await Self.scores(port, TrainedModel.requestBody([rows[0]]))
            #expect(one.count == 1 && abs(one[0] - predicted[0]) <= 1e-6)
            let hundred = try await Self.scores(port, TrainedModel.requestBody(rows))
            let worst = zip(hundred, predicted).map { abs($0 - $1) }.max() ?? .infinity
            #expect(hundred.count == 100 && worst <= 1e-6, "largest difference \(worst)")
            try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for i in 0..<16 { group.addTask { (i, try await Self.scores(port, TrainedModel.requestBody([rows[i]]))) } }
                for try await (i, scores) in group { #expect(scores.count == 1 && abs(scores[0] - predicted[i]) <= 1e-6) }
            }

            // Every refusal is a 4xx with a message, and the server keeps serving.
            let refusals: [(String, Int, String)] = [
                (#"{"rows": [{"I1": 5"#, 400, "not valid JSON"),
                ("[1, 2]", 400, "must be"),
                (#"{"rows": 7}"#, 400, "rows must be an array"),
                (#"{"rows": [7]}"#, 400, "rows[0] must be an object"),
                (#"{"lines": []}"#, 400, "\"rows\""),
                (#"{"rows": [{"I1": "five"}]}"#, 400, "field I1 takes a number"),
                (#"{"rows": [{}, {"C1": true}]}"#, 400, "row 1: field C1"),
                (#"{"rows": [{"C1": "68fd1e64", "Z9": 1}]}"#, 400, "unknown field \"Z9\""),
                (TrainedModel.requestBody(Array(repeating: [:], count: 101)), 413, "at most 100"),
                (#"{"rows": [], "pad": ""# + String(repeating: " ", count: 70_000) + #""}"#, 413, "larger than 65536 bytes"),
            ]
            for (body, status, message) in refusals {
                let response = try await Self.request(port, "/v1/predict", body: body)
                #expect(response.status == status, "\(body.prefix(40)): \(response.body)")
                let error = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: [String: String]]
                #expect(error?["error"]?["message"]?.contains(message) == true, "\(body.prefix(40)): \(response.body)")
            }
            #expect(try await Self.request(port, "/v1/nothing").status == 404)
            #expect(try await Self.scores(port, #"{"rows": []}"#).isEmpty)
            #expect(try await Self.scores(port, TrainedModel.requestBody([rows[0]])) == one)
        }
    }

    /// Runs `server` on an ephemeral port for `body`, then shuts it down gracefully and checks
    /// that it stopped.
    /// A model file of each plug-in (the quotient-remainder trick's tables, DCN-v2) is served
    /// with the scores `predict` writes for the same rows (1e-6).
    @Test(arguments: ["qr", "dcnv2"])
    func pluginModelsAreServedAsPredictScoresThem(model name: String) async throws {
        var configuration = TrainedModel.deepFM
        if name == "qr" {
            configuration.embedding = .quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: 8))
        } else {
            configuration.kind = .dcnv2
            configuration.crossLayers = 2
        }
        let trained = try TrainedModel(configuration, rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        #expect(predictor.file.header.model == configuration)
        let lines = try String(contentsOfFile: trained.rawFile, encoding: .utf8).split(separator: "\n").prefix(50).joined(separator: "\n")
        try (lines + "\n").write(toFile: trained.directory + "/first50.tsv", atomically: true, encoding: .utf8)
        _ = try FilePrediction.run(predictor, input: trained.directory + "/first50.tsv", output: trained.directory + "/first50.csv")
        let predicted = try String(contentsOfFile: trained.directory + "/first50.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Float($0) } }
        let rows = try trained.namedRows(50)
        let server = ScoringServer(
            predictor: predictor, modelPath: trained.modelPath,
            configuration: .init(host: "127.0.0.1", port: 0, maxRows: 100, maxBodyBytes: 64 << 10),
            logger: Logger(label: "test.serve"))
        try await Self.running(server) { port in
            let served = try await Self.scores(port, TrainedModel.requestBody(rows))
            let worst = zip(served, predicted).map { abs($0 - $1) }.max() ?? .infinity
            #expect(served.count == 50 && predicted.count == 50 && worst <= 1e-6, "largest difference \(worst)")
        }
    }

    static func running(_ server: ScoringServer, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let (ports, readiness) = AsyncStream.makeStream(of: Int.self)
        let application = try server.application { port in readiness.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: server.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            #expect(port > 0)
            do {
                try await body(port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Stopped: a new connection is refused.
            #expect(!HTTPTestClient.accepts(port: port))
        }
    }

    /// Status and body of a GET to `path` (or, with a body, a POST) on the server at `port`.
    static func request(_ port: Int, _ path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        try await HTTPTestClient.request(port: port, path: path, body: body)
    }

    /// The scores of a 200 response to `body`.
    static func scores(_ port: Int, _ body: String) async throws -> [Float] {
        let response = try await request(port, "/v1/predict", body: body)
        #expect(response.status == 200, "\(response.body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        return try #require(object["scores"] as? [Double]).map { Float($0) }
    }
}
