import { applyDecorators, UsePipes, type PipeTransform } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { Contract } from './contract.js';
import { MessagingException } from './messaging.exception.js';
import { describeZodError } from './wire-error.js';

/** Validates a message payload against its contract's request schema. */
export class ContractPipe implements PipeTransform {
  constructor(private readonly contract: Contract) {}

  transform(value: unknown): unknown {
    const parsed = this.contract.request.safeParse(value);
    if (!parsed.success) throw MessagingException.invalidMessage(describeZodError(parsed.error));
    return parsed.data;
  }
}

/**
 * Marks a store handler as the answer to `contract`: subscribes to its pattern and validates
 * the payload (`@Payload()`) against the contract before the handler runs.
 */
export function Handles(contract: Contract): MethodDecorator {
  // `readOnly` travels with the handler: the server claims every other request's signature (PolystoreNatsServer).
  return applyDecorators(
    MessagePattern(contract.pattern, { readOnly: contract.readOnly === true }),
    UsePipes(new ContractPipe(contract)),
  );
}
