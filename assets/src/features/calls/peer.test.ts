import { describe, expect, it } from 'vitest';
import { outgoingConnecting, setup, useCallTestClock } from './testing';

useCallTestClock();

describe('call peer connection', () => {
  it('forces TURN when the relay hook is set', async () => {
    const h = setup();
    h.relay.on = true;
    await outgoingConnecting(h);
    expect(h.pc().config.iceTransportPolicy).toBe('relay');
  });
});
