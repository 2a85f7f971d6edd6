import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for one process, served at `/metrics`.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.messagesSent.inc();
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    connections: new Gauge({ name: 'parley_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    messagesSent: new Counter({ name: 'parley_messages_sent_total', help: 'Messages committed', registers: [registry] }),
    deliveries: new Counter({ name: 'parley_deliveries_total', help: 'Event frames written to sockets', registers: [registry] }),
    frameErrors: new Counter({ name: 'parley_ws_frame_errors_total', help: 'Invalid WebSocket frames', registers: [registry] }),
    webhookDeliveries: new Counter({
      name: 'parley_webhook_deliveries_total',
      help: 'Webhook POSTs by outcome: delivered (2xx) or failed (retried later)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'REST request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
