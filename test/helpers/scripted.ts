// A backbone whose controller answers are scripted, for pinning the workflow's handling of
// specific controller outputs. Everything else is the sim model.
import type { Backbone, ChatRequest, EditRequest, GenerateRequest } from '../../backbones/backbone';
import { SimBackbone } from '../../backbones/sim';
import { detectTemplate } from '../../prompts/render';

export class ScriptedController implements Backbone {
  readonly capabilities;
  readonly prompts: string[] = [];
  private readonly answers: string[];

  constructor(answers: string[], private readonly inner: Backbone = new SimBackbone()) {
    this.answers = [...answers];
    this.capabilities = inner.capabilities;
  }

  async chat(request: ChatRequest): Promise<string> {
    const text = request.messages.at(-1)?.text ?? '';
    if (detectTemplate(text) === 'controller') {
      this.prompts.push(text);
      const next = this.answers.shift();
      if (next === undefined) throw new Error('the test script ran out of controller answers');
      return next;
    }
    return this.inner.chat(request);
  }

  generate(request: GenerateRequest): Promise<Buffer> {
    return this.inner.generate(request);
  }

  edit(request: EditRequest): Promise<Buffer> {
    return this.inner.edit(request);
  }
}

export const answer = (action: string, reasoning = 'scripted by the test') => `Reasoning: ${reasoning}\nAnswer: \\boxed{${action}}`;
