import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { deriveKey, METRICS_REGISTRY } from '#polystore/platform';
import { isTenantSlug } from '#polystore/tenancy';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { Gauge, type Registry } from 'prom-client';
import type { BrokerAccess } from '../broker/broker-access.js';
import type { EdgeStoreConfig } from '../config.js';
import { BROKER_ACCESS, EDGE_CONFIG, MASTER_KEY } from '../edge.tokens.js';
import { IngestService, type DeviceMessage } from './ingest.service.js';

const TOPIC =
  /^tenants\/([a-z][a-z0-9-]{1,39})\/devices\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/telemetry$/;

interface HeldAck {
  readonly messageId: number;
  readonly epoch: number;
}

type SendPacket = (packet: Record<string, unknown>, cb?: (error?: Error) => void) => void;

/**
 * Consumes device telemetry from the broker through a shared subscription
 * (`$share/<group>/tenants/+/devices/+/telemetry`, QoS 1), so replicas split the load.
 *
 * The PUBACK of a message is sent only after its readings (or its dead letter) are committed.
 * mqtt.js sends it as soon as `handleMessage` calls back, and reads the next packet only then;
 * so `handleMessage` calls back at once (the client keeps reading) and the PUBACK itself is held
 * back (`_sendPacket` is wrapped) until the commit. The session is persistent (MQTT 5 session
 * expiry), so messages arriving while this process is down wait at the broker, and a message
 * whose ack was lost with a connection is redelivered: `(device, seq)` uniqueness makes that
 * harmless. `receiveMaximum` bounds the unacknowledged messages the broker sends us; when the
 * ingest buffer is full, messages wait here unacknowledged, so the broker stops sending.
 *
 * The topic names the tenant and the device; the broker's per-device ACL guarantees a device
 * can publish only to its own topic, so this is the credential speaking, not the payload.
 */
@Injectable()
export class MqttConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MqttConsumer.name);
  private client?: MqttClient;
  private sendPacket?: SendPacket;
  private epoch = 0;
  private readonly held = new Set<number>();
  private readonly waitingForRoom: Array<{ message: DeviceMessage; ack: HeldAck }> = [];
  private stopping = false;
  private received = 0;

  constructor(
    private readonly ingest: IngestService,
    @Inject(BROKER_ACCESS) private readonly broker: BrokerAccess,
    @Inject(EDGE_CONFIG) private readonly config: EdgeStoreConfig,
    @Inject(MASTER_KEY) private readonly masterKey: Buffer,
    @Inject(METRICS_REGISTRY) metrics: Registry,
  ) {
    const held = this.held;
    const waiting = this.waitingForRoom;
    new Gauge({
      name: 'polystore_mqtt_held_acks',
      help: 'MQTT messages received whose PUBACK waits for their commit',
      registers: [metrics],
      collect() {
        this.set(held.size);
      },
    });
    new Gauge({
      name: 'polystore_mqtt_waiting_for_room',
      help: 'MQTT messages waiting for room in the ingest buffer',
      registers: [metrics],
      collect() {
        this.set(waiting.length);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const username = this.config.MQTT_INGEST_USERNAME;
    const password = ingestPassword(this.masterKey);
    await this.broker.ensureIngestAccount(username, password, this.config.MQTT_SHARED_GROUP);
    const url = new URL(this.config.MQTT_URL);
    url.username = '';
    url.password = '';
    const client = mqtt.connect(url.toString(), {
      protocolVersion: 5,
      clientId: `polystore-edge-${this.config.MQTT_SHARED_GROUP}-${this.config.INSTANCE_ID}`
        .replace(/[^A-Za-z0-9_-]/g, '-')
        .slice(0, 64),
      username,
      password,
      clean: false,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      properties: { sessionExpiryInterval: 7 * 24 * 3_600, receiveMaximum: this.config.MQTT_RECEIVE_MAXIMUM },
    });
    this.client = client;
    this.holdPubacks(client);
    client.handleMessage = (packet, callback) => {
      this.onMessage(packet);
      callback();
    };
    client.on('connect', (connack) => {
      this.epoch++;
      this.held.clear();
      this.logger.log({ sessionPresent: connack.sessionPresent }, 'connected to the broker');
      if (!connack.sessionPresent) {
        client.subscribe(
          `$share/${this.config.MQTT_SHARED_GROUP}/tenants/+/devices/+/telemetry`,
          { qos: 1 },
          (error) => {
            if (error) this.logger.error({ err: error }, 'subscription refused');
          },
        );
      }
    });
    client.on('error', (error) => this.logger.warn({ message: error.message }, 'broker connection error'));
    client.on('close', () => {
      if (!this.stopping) this.logger.warn('broker connection lost; reconnecting');
    });
    this.ingest.buffer.onSettled(() => this.retryWaiting());
  }

  /** Stops taking messages, lets queued ones commit and be acknowledged, then disconnects. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (!this.client) return;
    // Stop receiving: messages still unacknowledged at the broker are redelivered to a replica.
    this.client.handleMessage = (_packet, callback) => callback();
    await this.ingest.buffer.close();
    await this.client.endAsync(false);
  }

  /** Messages received since start. */
  get receivedCount(): number {
    return this.received;
  }

  private holdPubacks(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket: SendPacket };
    const send = internal._sendPacket.bind(client);
    this.sendPacket = send;
    internal._sendPacket = (packet, cb) => {
      if (packet['cmd'] === 'puback' && this.held.has(packet['messageId'] as number)) {
        cb?.(); // let the client read on; the real PUBACK goes out after the commit
        return;
      }
      send(packet, cb);
    };
  }

  private onMessage(packet: IPublishPacket): void {
    this.received++;
    if (packet.qos === 0 || packet.messageId === undefined) return; // devices publish at QoS 1
    const ack: HeldAck = { messageId: packet.messageId, epoch: this.epoch };
    this.held.add(packet.messageId);
    const match = TOPIC.exec(packet.topic);
    if (!match || !isTenantSlug(match[1])) {
      this.logger.warn('message on an unexpected topic acknowledged without storing');
      this.release(ack);
      return;
    }
    const message: DeviceMessage = {
      tenant: match[1],
      deviceId: match[2]!,
      payload: Buffer.from(packet.payload),
      receivedAt: performance.now(),
    };
    this.offer(message, ack);
  }

  private offer(message: DeviceMessage, ack: HeldAck): void {
    const outcome = this.ingest.submitMqtt(message, (error) => {
      if (!error) this.release(ack);
      // On error the message stays unacknowledged; the broker redelivers it after a reconnect.
    });
    if (outcome === 'no-room') this.waitingForRoom.push({ message, ack });
  }

  private retryWaiting(): void {
    while (this.waitingForRoom.length > 0) {
      const next = this.waitingForRoom[0]!;
      if (next.ack.epoch !== this.epoch) {
        this.waitingForRoom.shift(); // its connection is gone; the broker will redeliver it
        continue;
      }
      if (!this.ingest.buffer.hasRoomFor(1)) return;
      this.waitingForRoom.shift();
      this.offer(next.message, next.ack);
    }
  }

  private release(ack: HeldAck): void {
    if (ack.epoch !== this.epoch || !this.held.delete(ack.messageId)) return;
    this.sendPacket?.({ cmd: 'puback', messageId: ack.messageId, reasonCode: 0 });
  }
}

/** The consumer account's password: derived from MASTER_KEY, so every replica knows it. */
export function ingestPassword(masterKey: Buffer): string {
  return deriveKey(masterKey, 'polystore/edge/mqtt-ingest').toString('base64url');
}
